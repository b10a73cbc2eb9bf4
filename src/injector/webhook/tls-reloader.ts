import type { SecureContextOptions } from "node:tls";
import { fs } from "../../runtime/builtins.ts";
import { describeError } from "../../runtime/errors.ts";
import { watchPath } from "../../runtime/files/path-watcher.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";

/** Reads a certificate and its key (PEM files). */
export function readKeyPair(certFile: string, keyFile: string): SecureContextOptions {
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
}

/**
 * Watches a certificate and key (a Secret mount: the `..data` swap too) and hands each new,
 * readable pair to `apply`; a pair that cannot be read or used keeps the last good one.
 */
export function watchKeyPair(
  certFile: string,
  keyFile: string,
  apply: (pair: SecureContextOptions) => void,
  { logger, signal }: { logger: Logger; signal: AbortSignal },
): void {
  const reload = () => {
    try {
      apply(readKeyPair(certFile, keyFile));
      logger.info({ certFile }, "TLS certificate reloaded");
    } catch (error) {
      logger.error(
        { certFile, keyFile, error: describeError(error) },
        "TLS certificate reload failed; keeping the last good one",
      );
    }
  };
  watchPath(certFile, reload, { signal, logger });
  watchPath(keyFile, reload, { signal, logger });
}
