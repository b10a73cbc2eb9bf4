import type { Server, ServerOptions } from "node:http";
import type { TLSSocket, Server as TlsServer } from "node:tls";
import { http, https, tls } from "../runtime/builtins.ts";
import { type ListenAddress, parseAddress } from "../runtime/config/address.ts";
import { listenOn } from "../runtime/listen.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import type { DownstreamRequest } from "./downstream/downstream.ts";
import { ProxyErrorCodes } from "./error-codes.ts";
import { setPrincipal } from "./filters/auth/principal.ts";
import type { ProxyFilter } from "./filters/filter.ts";
import { canonicalHeaderName } from "./hop-headers.ts";
import type { LocalReply } from "./local-reply.ts";
import type { ListenerConfig } from "./proxy-config.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import { clientCertRefusal, formatXfcc, peerIdentity } from "./tls/client-identity.ts";
import { ServerTls } from "./tls/server-tls.ts";

/**
 * A listener's security plumbing: plain HTTP or TLS (certificates, SNI, client certificates,
 * reloads), the identity headers its filters own (stripped from every client request), the
 * client certificate's identity (XFCC upstream, a principal for `authz`), the optional
 * plain-HTTP redirect listener, and closing the filters when the listener stops.
 */
export class ListenerSecurity {
  readonly proto: "http" | "https";
  /** Canonical names of the headers the filters set upstream; undefined when none. */
  readonly identityHeaders: ReadonlySet<string> | undefined;
  readonly #config: ListenerConfig;
  readonly #filters: readonly ProxyFilter[];
  readonly #tls: ServerTls | undefined;
  readonly #logger: Logger;
  #redirect: Server | undefined;

  constructor(
    config: ListenerConfig,
    filters: readonly ProxyFilter[],
    { logger, metrics }: { logger: Logger; metrics: ProxyMetrics },
  ) {
    this.#config = config;
    this.#filters = filters;
    this.#logger = logger;
    const names = new Set<string>();
    for (const filter of filters)
      for (const name of filter.identityHeaders ?? []) names.add(canonicalHeaderName(name));
    if (names.size > 0) this.identityHeaders = names;
    this.proto = config.tls ? "https" : "http";
    if (config.tls) {
      const listener = config.name;
      this.#tls = new ServerTls(config.tls, {
        logger,
        onReload: (ok) => {
          metrics.tlsReloads.inc({ listener, result: ok ? "ok" : "error" });
          this.#publishExpiry(metrics);
        },
      });
      this.#publishExpiry(metrics);
    }
  }

  #publishExpiry(metrics: ProxyMetrics): void {
    for (const { certFile, notAfter } of this.#tls?.certificates ?? [])
      metrics.tlsCertificateExpiry.set(
        { listener: this.#config.name, certificate: certFile },
        notAfter.getTime() / 1000,
      );
  }

  /** The listener's server: node:http, or node:https with the TLS contexts (watched from now on). */
  createServer(options: ServerOptions): Server {
    if (!this.#tls) return http.createServer(options);
    const server = https.createServer({ ...this.#tls.serverOptions(), ...options });
    this.#tls.attach(server);
    return server as unknown as Server;
  }

  /**
   * For a TLS listener whose requests are read on node:net: a tls.Server with the TLS contexts
   * (watched from now on), whose secure connections carry HTTP/1.1; undefined without TLS.
   */
  createTlsServer(): TlsServer | undefined {
    if (!this.#tls) return undefined;
    const server = tls.createServer({ ...this.#tls.serverOptions(), noDelay: true });
    this.#tls.attach(server);
    return server;
  }

  /** A 403 when the connection's client certificate is unverified or not on the allow-list. */
  refuse(req: DownstreamRequest): LocalReply | undefined {
    const clientAuth = this.#tls?.config.clientAuth;
    if (!clientAuth) return undefined;
    const refusal = clientCertRefusal(req.socket as TLSSocket, clientAuth);
    if (!refusal) return undefined;
    this.#logger.info(
      { client: req.socket.remoteAddress, reason: refusal },
      "client certificate refused",
    );
    return {
      status: 403,
      code: ProxyErrorCodes.CLIENT_CERT_REFUSED,
      flag: "CC",
      message: "Client certificate not accepted",
    };
  }

  /** XFCC for the request's connection (a verified client certificate), else undefined. */
  forwardedClientCert(req: DownstreamRequest): string | undefined {
    const clientAuth = this.#tls?.config.clientAuth;
    if (clientAuth?.forwardClientCert !== "set") return undefined;
    const identity = peerIdentity(req.socket as TLSSocket);
    return identity ? formatXfcc(identity, this.#tls!.serverUri) : undefined;
  }

  /** Makes a verified client certificate the request's principal (its SPIFFE ID, else its CN). */
  recordPrincipal(req: DownstreamRequest, request: object): void {
    if (!this.#tls?.config.clientAuth) return;
    const identity = peerIdentity(req.socket as TLSSocket);
    if (identity)
      setPrincipal(request, {
        method: "client-cert",
        subject: identity.uris[0] ?? identity.commonName,
        scopes: [],
        groups: [],
      });
  }

  /** Starts the plain-HTTP listener that redirects to HTTPS, if configured. */
  async startRedirect(httpsPort: number): Promise<ListenAddress | undefined> {
    const redirect = this.#config.tls?.redirectHttp;
    if (!redirect) return undefined;
    const port = redirect.httpsPort ?? httpsPort;
    this.#redirect = http.createServer({ requireHostHeader: true }, (req, res) => {
      const host = /^[A-Za-z0-9.-]+|^\[[0-9A-Fa-f:.]+\]/.exec(req.headers.host ?? "")?.[0];
      const target = req.url?.startsWith("/") ? req.url : "/";
      if (!host) {
        res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("Bad Host\n");
        return;
      }
      const authority = port === 443 ? host : `${host}:${port}`;
      res.writeHead(308, { location: `https://${authority}${target}`, "content-length": 0 });
      res.end();
    });
    this.#redirect.keepAliveTimeout = 5_000;
    return listenOn(
      this.#redirect,
      parseAddress(redirect.address)!,
      `HTTPS redirect of listener "${this.#config.name}"`,
    );
  }

  /** Stops watching files, closes the filters and the redirect listener. Idempotent. */
  close(): void {
    this.#tls?.close();
    for (const filter of this.#filters) filter.close?.();
    if (this.#redirect?.listening) {
      this.#redirect.close();
      this.#redirect.closeAllConnections();
    }
  }
}
