import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { z } from "zod";
import { crypto, fs, http, https, tls as tlsModule } from "../builtins.ts";
import { ErrorCodes } from "../error-codes.ts";
import { describeError, SidecarError } from "../errors.ts";

/**
 * TLS towards an https endpoint: a CA bundle to trust (PEM), a client certificate (PEM cert and
 * key, for mutual TLS), the name to send as SNI and verify the certificate against (when it
 * differs from the URL's host), and no verification at all only when asked.
 */
export const httpTlsSchema = z
  .strictObject({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(false),
  })
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
    error: 'a client certificate needs both "certFile" and "keyFile"',
  });
export type HttpTls = z.input<typeof httpTlsSchema>;

export interface HttpAgents {
  http: HttpAgent;
  https: HttpsAgent;
  /** Closes every pooled connection. */
  destroy(): void;
}

export interface HttpAgentsOptions {
  /** Connections per origin. Default Infinity (node's). */
  maxSockets?: number;
  tls?: HttpTls | undefined;
  /** The code of the error for an unreadable TLS file; default SIDECAR_ERR_HTTP_TLS_FILE. */
  tlsFileErrorCode?: string;
}

/**
 * Keep-alive connection pools for one client (pass the same pair to all its requests). The TLS
 * files are read and checked now, so a wrong path or a key that does not match its certificate
 * fails at start with SIDECAR_ERR_HTTP_TLS_FILE rather than at the first request.
 *
 * @example
 * const agents = createHttpAgents({ maxSockets: 4, tls: { caFile: "/etc/ssl/ca.pem" } });
 */
export function createHttpAgents({
  maxSockets,
  tls,
  tlsFileErrorCode = ErrorCodes.HTTP_TLS_FILE,
}: HttpAgentsOptions = {}): HttpAgents {
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return fs.readFileSync(path);
    } catch (error) {
      throw new SidecarError(
        tlsFileErrorCode,
        `Cannot read ${what} file "${path}": ${describeError(error)}`,
        { cause: error },
      );
    }
  };
  const ca = read("CA", tls?.caFile);
  const cert = read("certificate", tls?.certFile);
  const key = read("key", tls?.keyFile);
  const secure = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
  try {
    // A CA file without a single certificate would be ignored silently and trust nothing extra.
    if (ca) new crypto.X509Certificate(ca);
    tlsModule.createSecureContext(secure);
  } catch (error) {
    const files = [tls?.caFile, tls?.certFile, tls?.keyFile].filter(Boolean).join('", "');
    throw new SidecarError(
      tlsFileErrorCode,
      `Cannot use TLS files "${files}": ${describeError(error)}`,
      { cause: error },
    );
  }
  const pool = { keepAlive: true, ...(maxSockets === undefined ? {} : { maxSockets }) };
  const httpAgent = new http.Agent(pool);
  const httpsAgent = new https.Agent({
    ...pool,
    ...secure,
    ...(tls?.serverName ? { servername: tls.serverName } : {}),
    rejectUnauthorized: !tls?.insecureSkipVerify,
  });
  return {
    http: httpAgent,
    https: httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
