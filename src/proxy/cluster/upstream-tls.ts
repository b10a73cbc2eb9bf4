import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { crypto, fs, tls as tlsModule } from "../../runtime/builtins.ts";
import { describeError, SidecarError } from "../../runtime/errors.ts";
import type { HttpTls } from "../../runtime/http/http-client.ts";
import { ProxyErrorCodes } from "../error-codes.ts";

/**
 * The options every TLS connection to a cluster's endpoints uses: the CA bundle (the system's
 * when none), a client certificate, the SNI name and verification (on unless
 * `insecureSkipVerify`). Files are read once, at start; an unreadable or mismatched one is a
 * SidecarError SIDECAR_ERR_PROXY_TLS_FILE naming the cluster and file.
 *
 * @example
 * const tls = upstreamTlsOptions("orders", { caFile: "/etc/ssl/mesh-ca.pem" });
 */
export function upstreamTlsOptions(cluster: string, tls: HttpTls): ConnectionOptions {
  const read = (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return fs.readFileSync(path);
    } catch (error) {
      throw new SidecarError(
        ProxyErrorCodes.TLS_FILE,
        `Cannot read the TLS ${what} "${path}" of cluster "${cluster}": ${describeError(error)}`,
        { cause: error },
      );
    }
  };
  const ca = read("CA bundle", tls.caFile);
  const cert = read("certificate", tls.certFile);
  const key = read("key", tls.keyFile);
  const options: ConnectionOptions = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    rejectUnauthorized: !tls.insecureSkipVerify,
    ALPNProtocols: ["http/1.1"],
  };
  try {
    if (ca) new crypto.X509Certificate(ca);
    tlsModule.createSecureContext(options);
  } catch (error) {
    throw new SidecarError(
      ProxyErrorCodes.TLS_FILE,
      `Cannot use the TLS files of cluster "${cluster}": ${describeError(error)}`,
      { cause: error },
    );
  }
  return options;
}

/** The options for one endpoint: SNI (and verification) for its configured name unless serverName is set. */
export function endpointTlsOptions(
  options: ConnectionOptions,
  configuredHost: string,
): ConnectionOptions {
  if (options.servername !== undefined || isIP(configuredHost) !== 0) return options;
  return { ...options, servername: configuredHost };
}
