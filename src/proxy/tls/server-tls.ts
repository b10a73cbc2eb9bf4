import type { X509Certificate } from "node:crypto";
import type {
  SecureContext,
  SecureContextOptions,
  TlsOptions,
  Server as TlsServer,
} from "node:tls";
import { crypto, fs, tls as tlsModule } from "../../runtime/builtins.ts";
import { describeError, SidecarError } from "../../runtime/errors.ts";
import { watchPath } from "../../runtime/files/path-watcher.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import { ProxyErrorCodes } from "../error-codes.ts";
import { peerIdentity, subjectAltNames } from "./client-identity.ts";
import type { CertificateConfig, ListenerTlsConfig } from "./tls-config.ts";

/** One certificate as loaded: the names it serves by SNI and its context. */
interface LoadedCertificate {
  certFile: string;
  names: string[];
  context: SecureContext;
  options: SecureContextOptions;
  notAfter: Date;
  /** The first URI SAN of the leaf (XFCC's `By`). */
  uri: string | undefined;
}

export interface ServerTlsOptions {
  /** Logs reloads (file names, never key material). */
  logger: Logger;
  /** Called after each reload attempt. */
  onReload?: (ok: boolean) => void;
  /** For tests: the file watcher's debounce and polling. */
  watch?: { debounceMs?: number; pollIntervalMs?: number };
}

function readPem(path: string, what: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    throw new SidecarError(
      ProxyErrorCodes.TLS_FILE,
      `Cannot read TLS ${what} "${path}": ${describeError(error)}`,
      { cause: error },
    );
  }
}

function matchesName(pattern: string, name: string): boolean {
  if (pattern.startsWith("*.")) {
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot) === pattern.slice(1);
  }
  return pattern === name;
}

/**
 * A TLS listener's certificates, keys and client CA: loaded from files (a mounted Secret),
 * chosen by SNI, and reloaded when a file changes (edits and Kubernetes' `..data` swap alike).
 * A reload builds new contexts for new handshakes; open connections keep theirs and are never
 * dropped. A reload whose files are unreadable or do not match keeps the previous contexts.
 *
 * @example
 * const tls = new ServerTls(config.tls, { logger });
 * const server = https.createServer(tls.serverOptions(), handler);
 * tls.attach(server);
 */
export class ServerTls {
  readonly config: ListenerTlsConfig;
  readonly #options: ServerTlsOptions;
  #certificates: LoadedCertificate[];
  #watchers: { close(): void }[] = [];
  #server: TlsServer | undefined;

  /** Reads every file (a few KB, once at start); throws SidecarError SIDECAR_ERR_PROXY_TLS_FILE naming the bad one. */
  constructor(config: ListenerTlsConfig, options: ServerTlsOptions) {
    this.config = config;
    this.#certificates = ServerTls.#read(config);
    this.#options = options;
  }

  static #read(config: ListenerTlsConfig): LoadedCertificate[] {
    const ca = config.clientAuth
      ? readPem(config.clientAuth.caFile, "client CA bundle")
      : undefined;
    return certificatesOf(config).map((entry) => {
      const cert = readPem(entry.certFile, "certificate");
      const key = readPem(entry.keyFile, "key");
      let leaf: X509Certificate;
      const options: SecureContextOptions = {
        cert,
        key,
        minVersion: config.minVersion,
        maxVersion: config.maxVersion,
        ...(ca ? { ca } : {}),
        ...(config.ciphers ? { ciphers: config.ciphers } : {}),
        ...(config.ecdhCurve ? { ecdhCurve: config.ecdhCurve } : {}),
      };
      let context: SecureContext;
      try {
        leaf = new crypto.X509Certificate(cert);
        context = tlsModule.createSecureContext(options);
      } catch (error) {
        throw new SidecarError(
          ProxyErrorCodes.TLS_FILE,
          `Cannot use TLS certificate "${entry.certFile}" with key "${entry.keyFile}": ${describeError(error)}`,
          { cause: error },
        );
      }
      const sans = subjectAltNames(leaf);
      return {
        certFile: entry.certFile,
        names: (entry.serverNames ?? sans.filter((n) => n.type === "DNS").map((n) => n.value)).map(
          (n) => n.toLowerCase(),
        ),
        context,
        options,
        notAfter: leaf.validToDate,
        uri: sans.find((n) => n.type === "URI")?.value,
      };
    });
  }

  /** Options for `https.createServer`: SNI, ALPN http/1.1, versions, client certificates. */
  serverOptions(): TlsOptions {
    const clientAuth = this.config.clientAuth;
    return {
      ...this.#certificates[0]!.options,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, callback) => callback(null, this.contextFor(servername)),
      handshakeTimeout: this.config.handshakeTimeoutSeconds * 1000,
      requestCert: clientAuth !== undefined,
      rejectUnauthorized: clientAuth?.mode === "require",
    };
  }

  /** The context for an SNI name: the first certificate serving it, else the default (first). */
  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase();
    for (const cert of this.#certificates)
      if (cert.names.some((pattern) => matchesName(pattern, name))) return cert.context;
    return this.#certificates[0]!.context;
  }

  /** The default certificate's first URI SAN (the `By` of X-Forwarded-Client-Cert). */
  get serverUri(): string | undefined {
    return this.#certificates[0]!.uri;
  }

  /** Each certificate's file and expiry, for metrics and the status page (no key material). */
  get certificates(): { certFile: string; notAfter: Date }[] {
    return this.#certificates.map(({ certFile, notAfter }) => ({ certFile, notAfter }));
  }

  /**
   * Serves `server`: reads each client's identity as its handshake completes (the peer
   * certificate is not kept for later), and watches every file, each change reloading and
   * swapping the server's default context.
   */
  attach(server: TlsServer): void {
    this.#server = server;
    if (this.config.clientAuth) server.on("secureConnection", (socket) => peerIdentity(socket));
    const files = new Set<string>();
    for (const entry of certificatesOf(this.config)) files.add(entry.certFile).add(entry.keyFile);
    if (this.config.clientAuth) files.add(this.config.clientAuth.caFile);
    for (const file of files)
      this.#watchers.push(
        watchPath(
          file,
          () => {
            this.reload();
          },
          {
            ...this.#options.watch,
            logger: this.#options.logger,
          },
        ),
      );
  }

  /** Reads the files again and swaps the contexts in; true when the new ones are in use. */
  reload(): boolean {
    try {
      const certificates = ServerTls.#read(this.config);
      this.#certificates = certificates;
      this.#server?.setSecureContext(certificates[0]!.options);
      this.#options.logger.info(
        { certificates: certificates.map((c) => c.certFile) },
        "TLS certificates reloaded",
      );
      this.#options.onReload?.(true);
      return true;
    } catch (error) {
      this.#options.logger.error(
        { error, code: ProxyErrorCodes.TLS_RELOAD },
        "TLS reload failed; the previous certificates stay in use",
      );
      this.#options.onReload?.(false);
      return false;
    }
  }

  close(): void {
    for (const watcher of this.#watchers.splice(0)) watcher.close();
  }
}

/** The listener's certificates, the shorthand expanded (here, not beside the schema: no zod at run time). */
function certificatesOf(tls: ListenerTlsConfig): CertificateConfig[] {
  return tls.certificates ?? [{ certFile: tls.certFile!, keyFile: tls.keyFile! }];
}
