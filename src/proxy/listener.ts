import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Server as NetServer, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { http } from "../runtime/builtins.ts";
import { type ListenAddress, parseAddress } from "../runtime/config/address.ts";
import { listenOn } from "../runtime/listen.ts";
import type { RoleMemory } from "../runtime/role-definition.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import type { AccessLog } from "./access-log.ts";
import { ClientAddressResolver } from "./client-address.ts";
import { clientErrorReply } from "./client-error.ts";
import type { Cluster } from "./cluster/cluster.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream/downstream.ts";
import { NetHttpServer } from "./downstream/net-http-server.ts";
import { ProxyErrorCodes } from "./error-codes.ts";
import { addFlag, type Exchange, newExchange } from "./exchange.ts";
import { buildFilter } from "./filters/build-filter.ts";
import type { FilterBuildContext, FilterComponent } from "./filters/filter.ts";
import { FilterChain } from "./filters/filter-chain.ts";
import type { FilterConfig } from "./filters/registry.ts";
import { RequestFilterContext } from "./filters/request-context.ts";
import { upstreamRequestHeaders } from "./hop-headers.ts";
import {
  type ForwardOptions,
  forward,
  isReplayable,
  methodHasBodyByDefault,
} from "./http-forwarder.ts";
import { ListenerSecurity } from "./listener-security.ts";
import {
  type LocalReply,
  type ResponseHeadersEditor,
  rawLocalReply,
  sendLocalReply,
} from "./local-reply.ts";
import { normalizePath } from "./path-normalizer.ts";
import { PressureGate, type PressureGateOptions } from "./pressure-gate.ts";
import type { ListenerConfig, RouteConfig } from "./proxy-config.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import { newRequestId } from "./request-ids.ts";
import { RequestRecorder } from "./request-recorder.ts";
import { type CompiledRoute, hostWithoutPort, RouteTable } from "./route-table.ts";
import { TimeoutList } from "./timeout-list.ts";
import type { RequestErrorCode } from "./transport/request-parser.ts";
import { answerAndClose, tunnelUpgrade } from "./upgrade-tunnel.ts";

export interface ProxyListenerOptions {
  clusters: ReadonlyMap<string, Cluster>;
  metrics: ProxyMetrics;
  accessLog: AccessLog | undefined;
  logger: Logger;
  /**
   * The filter types `filters:` entries are built from: the built-in ones (filters/registry.ts)
   * and any of a test's or an embedder's own. Default: none (a config without filters).
   */
  filterTypes?: readonly FilterComponent[] | undefined;
  /** Under a memory limit: new connections wait unread past the budget's count or under pressure, when bodies are not buffered for retries either. */
  memory?: PressureGateOptions | undefined;
  /** Told when no request is in flight, so the memory a busy spell grew is given back. */
  release?: RoleMemory["release"];
  /**
   * Where a plain listener parses requests: on node:net (default; see downstream/), or all on
   * node:http, as TLS listeners do. "node" is for comparing the two (tests, benchmarks).
   */
  requestSide?: "net" | "node" | undefined;
}

/** Where a request goes: its route and cluster, and the target sent upstream. */
export interface RoutedRequest {
  route: CompiledRoute;
  cluster: Cluster;
  path: string;
  /** The normalized path without the query: what the route matched and the filters see. */
  matchedPath: string;
  /** Authority from an absolute-form target (egress), else undefined. */
  authority: string | undefined;
}

/** The listener's filters: the older `rateLimit` keys first (as a rate-limit filter), then `filters`. */
export function listenerFilterConfigs(config: ListenerConfig): FilterConfig[] {
  const { rateLimit } = config;
  if (!rateLimit || (!rateLimit.global && !rateLimit.perClient)) return config.filters;
  return [{ type: "rate-limit", ...rateLimit, maxClients: 10_000 }, ...config.filters];
}

type Routed = RoutedRequest | LocalReply;
type SendLocalReply = (reply: LocalReply, close?: boolean, editor?: ResponseHeadersEditor) => void;

/**
 * One listener: an HTTP/1.1 server whose requests are checked (limits), routed, passed through
 * the filter chain (the listener's filters, then the route's) and forwarded; Upgrade requests
 * pass the same chain and are tunnelled. Requests are read on node:net (NetHttpServer); the
 * connections it hands over (upgrades, chunked bodies, Expect) are node:http's from then on.
 * `drain()` stops accepting and closes keep-alive connections after their current response.
 */
export class ProxyListener {
  readonly config: ListenerConfig;
  /** node:http's server: the connections handed to it by #net, or every one (requestSide "node"). */
  readonly #server: Server;
  /** The request side on node:net (plain or TLS); undefined with requestSide "node". */
  readonly #net: NetHttpServer | undefined;
  readonly #routes: RouteTable;
  readonly #options: ProxyListenerOptions;
  /** undefined when the client is always the socket peer. */
  readonly #resolver: ClientAddressResolver | undefined;
  /** The chain of a request no route matched; undefined when empty. */
  readonly #listenerChain: FilterChain | undefined;
  /** Each route's chain (listener filters, then the route's); a route without filters has none. */
  readonly #routeChains = new Map<RouteConfig, FilterChain>();
  /** Each route's timeout list (one timer for all its requests); none when timeoutSeconds is 0. */
  readonly #routeTimeouts = new Map<RouteConfig, TimeoutList>();
  readonly #labels: { listener: string };
  readonly #recorder: RequestRecorder;
  readonly #tunnels = new Set<Duplex>();
  readonly #security: ListenerSecurity;
  readonly #gate: PressureGate | undefined;
  #inFlight = 0;
  #draining = false;
  #idleWaiters: (() => void)[] = [];
  #address: ListenAddress | undefined;
  readonly #untrack: (() => void) | undefined;

  constructor(config: ListenerConfig, options: ProxyListenerOptions) {
    this.config = config;
    this.#options = options;
    this.#routes = new RouteTable(config.routes);
    this.#labels = { listener: config.name };
    // Published at scrape time rather than inc/dec per request (label hashing per call).
    options.metrics.onCollect(() =>
      options.metrics.activeRequests.set(this.#labels, this.#inFlight),
    );
    this.#recorder = new RequestRecorder(config.name, options.metrics, options.accessLog);
    this.#untrack = options.release?.track(() => this.#inFlight);
    const resolver = new ClientAddressResolver(config.clientAddress);
    if (!resolver.peerOnly) this.#resolver = resolver;
    const logger = options.logger.child({ listener: config.name });
    const buildContext = (route: string | undefined): FilterBuildContext => ({
      listener: config.name,
      route,
      logger,
      metrics: options.metrics,
      now: () => performance.now(),
    });
    const listenerFilters = listenerFilterConfigs(config).map((c) =>
      buildFilter(c, buildContext(undefined), options.filterTypes ?? []),
    );
    if (listenerFilters.length > 0)
      this.#listenerChain = new FilterChain(listenerFilters, logger.child({ route: "" }));
    const built = [...listenerFilters];
    for (const route of this.#routes.routes) {
      if (route.config.timeoutSeconds > 0)
        this.#routeTimeouts.set(route.config, new TimeoutList(route.config.timeoutSeconds * 1000));
      const routeFilters = route.config.filters.map((c) =>
        buildFilter(c, buildContext(route.name), options.filterTypes ?? []),
      );
      built.push(...routeFilters);
      const filters = [...listenerFilters, ...routeFilters];
      if (filters.length > 0)
        this.#routeChains.set(
          route.config,
          new FilterChain(filters, logger.child({ route: route.name })),
        );
    }
    this.#security = new ListenerSecurity(config, built, { logger, metrics: options.metrics });
    const serverOptions = {
      maxHeaderSize: config.maxHeaderBytes,
      headersTimeout: config.headersTimeoutSeconds * 1000,
      requestTimeout: 0,
      keepAliveTimeout: config.idleTimeoutSeconds * 1000,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutSeconds * 250),
      requireHostHeader: true,
      joinDuplicateHeaders: false,
    };
    const onNet = options.requestSide !== "node";
    // On node:net, node:http's server is the fallback, handed decrypted connections: plain.
    this.#server = onNet
      ? http.createServer(serverOptions)
      : this.#security.createServer(serverOptions);
    if (onNet)
      this.#net = new NetHttpServer({
        tlsServer: this.#security.createTlsServer(),
        maxHeaderBytes: config.maxHeaderBytes,
        headersTimeoutMs: config.headersTimeoutSeconds * 1000,
        keepAliveTimeoutMs: config.idleTimeoutSeconds * 1000,
        streamIdleMs: config.streamIdleTimeoutSeconds * 1000,
        checkIntervalMs: Math.min(1000, config.headersTimeoutSeconds * 250),
        onRequest: (req, res) => this.#handle(req, res),
        onRefused: (socket, code, status, message) => this.#refused(socket, code, status, message),
        onHeadersTimeout: (socket) =>
          this.#refuseRaw(socket, clientErrorReply("ERR_HTTP_REQUEST_TIMEOUT", config)!),
        fallback: this.#server,
      });
    const accepting: NetServer = this.#net?.server ?? this.#server;
    accepting.maxConnections = config.maxConnections;
    if (options.memory && !config.tls)
      this.#gate = new PressureGate(options.memory, accepting, () => this.#inFlight);
    // A connection with a request in flight and no bytes either way for this long is closed
    // (Envoy's stream_idle_timeout); idle keep-alive connections use keepAliveTimeout.
    this.#server.timeout = config.streamIdleTimeoutSeconds * 1000;
    const handle = (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res);
    this.#server.on("request", handle);
    this.#server.on("checkContinue", handle);
    this.#server.on("checkExpectation", handle);
    this.#server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.#clientError(error, socket),
    );
    // Counted where accepted: a connection handed from node:net to node:http is not new.
    accepting.on("connection", (socket: Socket) => {
      this.#gate?.admit(socket);
      options.metrics.activeConnections.inc(this.#labels);
      socket.once("close", () => options.metrics.activeConnections.dec(this.#labels));
    });
  }

  get address(): ListenAddress | undefined {
    return this.#address;
  }

  async start(): Promise<ListenAddress> {
    this.#address = await listenOn(
      this.#net?.server ?? this.#server,
      parseAddress(this.config.address)!,
      `Proxy listener "${this.config.name}"`,
    );
    await this.#security.startRedirect(this.#address.port);
    return this.#address;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Routes a request; the reply to send when it cannot be routed. */
  route(req: DownstreamRequest): RoutedRequest | LocalReply {
    let target = req.url ?? "/";
    let authority: string | undefined;
    if (target[0] !== "/" && target !== "*") {
      // absolute-form (an app calling through the egress listener as an HTTP proxy)
      const match = /^http:\/\/([^/?#]+)([^#]*)/i.exec(target);
      if (!match)
        return {
          status: 400,
          code: ProxyErrorCodes.BAD_REQUEST,
          flag: "DPE",
          message: "Request target must be a path or an http:// URL",
        };
      authority = match[1]!;
      target = match[2] || "/";
      if (target[0] === "?") target = `/${target}`;
    }
    const query = target.indexOf("?");
    const normalized = normalizePath(
      query === -1 ? target : target.slice(0, query),
      this.config.pathNormalization,
    );
    if ("refused" in normalized)
      return {
        status: 400,
        code: ProxyErrorCodes.PATH_REFUSED,
        flag: "DPE",
        message: `Request path refused: ${normalized.refused}`,
      };
    // The app receives the path the route matched.
    target = query === -1 ? normalized.path : normalized.path + target.slice(query);
    const route = this.#routes.match({
      method: req.method!,
      path: normalized.path,
      host: hostWithoutPort(authority ?? req.headers.host),
      headers: req.headers,
    });
    if (!route)
      return {
        status: 404,
        code: ProxyErrorCodes.NO_ROUTE,
        flag: "NR",
        message: `No route of listener "${this.config.name}" matches ${req.method} ${target}`,
      };
    const cluster = this.#options.clusters.get(route.config.cluster)!;
    return { route, cluster, path: target, matchedPath: normalized.path, authority };
  }

  /** The client address: the socket peer, or found in X-Forwarded-For behind trusted proxies. */
  #clientAddress(req: DownstreamRequest, peer: string): string {
    return this.#resolver === undefined
      ? peer
      : this.#resolver.resolve(peer, req.headers["x-forwarded-for"]);
  }

  #urlTooLong(req: DownstreamRequest): LocalReply | undefined {
    if ((req.url?.length ?? 0) <= this.config.maxUrlBytes) return undefined;
    return {
      status: 414,
      code: ProxyErrorCodes.URL_TOO_LONG,
      flag: "DPE",
      message: `Request target is over ${this.config.maxUrlBytes} bytes`,
    };
  }

  /** The filters a request passes; undefined when there are none (the common, free case). */
  #chainFor(routed: Routed): FilterChain | undefined {
    if (this.#listenerChain === undefined && this.#routeChains.size === 0) return undefined;
    return "route" in routed ? this.#routeChains.get(routed.route.config) : this.#listenerChain;
  }

  #handle(req: DownstreamRequest, res: DownstreamResponse): void {
    const peer = req.socket.remoteAddress ?? "";
    const clientAddress = this.#clientAddress(req, peer);
    const exchange = newExchange(req.method!, req.url!, `HTTP/${req.httpVersion}`, clientAddress);
    this.#inFlight += 1;
    // node:http queues a pipelined request's response behind the one in progress; closing
    // the socket closes only that one (or none, after an Upgrade took node:http's close
    // handling away, or once a response that closes the connection finished).
    const ahead = responseInProgress(req.socket);
    if (ahead !== undefined && ahead !== res) closeWithSocket(res as ServerResponse, req.socket);
    let completed = false;
    const done = () => {
      if (completed) return;
      completed = true;
      this.#inFlight -= 1;
      this.#recorder.record(req, exchange);
      if (this.#inFlight === 0) {
        for (const wake of this.#idleWaiters.splice(0)) wake();
        this.#gate?.idle();
        this.#options.release?.quiet();
      }
    };
    const localReply: SendLocalReply = (reply, close = false, editor) => {
      exchange.requestId ||= validRequestId(req) ?? newRequestId();
      exchange.status = reply.status;
      addFlag(exchange, reply.flag);
      res.once("close", done);
      exchange.bytesSent += sendLocalReply(
        res,
        reply,
        exchange.requestId,
        close || this.#draining,
        editor,
      );
    };

    const tooLong = this.#urlTooLong(req);
    if (tooLong) {
      localReply(tooLong, true);
      return;
    }
    const certRefused = this.#security.refuse(req);
    if (certRefused) {
      localReply(certRefused);
      return;
    }
    const routed = this.route(req);
    const chain = this.#chainFor(routed);
    if (chain === undefined) {
      this.#dispatch(req, res, exchange, routed, peer, done, localReply, undefined);
      return;
    }
    const filters = new RequestFilterContext(req, chain, {
      listener: this.config.name,
      route: "route" in routed ? routed.route.name : "",
      clientAddress,
      upgrade: false,
      path: "route" in routed ? routed.matchedPath : undefined,
    });
    this.#security.recordPrincipal(req, filters);
    const result = chain.run(filters);
    if (!(result instanceof Promise)) exchange.url = filters.editTarget(exchange.url);
    if (result === undefined)
      this.#dispatch(req, res, exchange, routed, peer, done, localReply, filters);
    else if (!(result instanceof Promise)) localReply(result, false, filters);
    else {
      // An async filter: the client may leave meanwhile.
      let gone = false;
      const onClose = () => {
        gone = true;
      };
      res.once("close", onClose);
      void result.then((reply) => {
        res.off("close", onClose);
        exchange.url = filters.editTarget(exchange.url);
        if (gone) {
          addFlag(exchange, "DC");
          done();
        } else if (reply) localReply(reply, false, filters);
        else this.#dispatch(req, res, exchange, routed, peer, done, localReply, filters);
      });
    }
  }

  /** Past the filters: checks the body and the cluster's limit, then forwards. */
  #dispatch(
    req: DownstreamRequest,
    res: DownstreamResponse,
    exchange: Exchange,
    routed: Routed,
    peer: string,
    done: () => void,
    localReply: SendLocalReply,
    filters: RequestFilterContext | undefined,
  ): void {
    if (!("route" in routed)) {
      localReply(routed, false, filters);
      return;
    }
    exchange.route = routed.route;
    exchange.cluster = routed.cluster;

    const contentLength = req.headers["content-length"];
    const chunked = req.headers["transfer-encoding"] !== undefined;
    if (contentLength !== undefined && Number(contentLength) > this.config.maxRequestBodyBytes) {
      localReply(
        {
          status: 413,
          code: ProxyErrorCodes.BODY_TOO_LARGE,
          flag: "DPE",
          message: `Request body of ${contentLength} bytes is over ${this.config.maxRequestBodyBytes} bytes`,
        },
        true,
        filters,
      );
      return;
    }
    const cluster = routed.cluster;
    if (cluster.active >= cluster.config.maxRequests) {
      this.#options.metrics.overflows.inc({ cluster: cluster.name });
      localReply(
        {
          status: 503,
          code: ProxyErrorCodes.OVERFLOW,
          flag: "UO",
          message: `Cluster "${cluster.name}" is at its limit of ${cluster.config.maxRequests} concurrent requests`,
          retryAfterSeconds: 1,
        },
        false,
        filters,
      );
      return;
    }

    const hasBody = chunked || (contentLength !== undefined && contentLength !== "0");
    const built = upstreamRequestHeaders(req.rawHeaders, {
      clientAddress: peer,
      proto: this.#security.proto,
      upgrade: false,
      chunked,
      identityHeaders: this.#security.identityHeaders,
      forwardedClientCert: this.#security.forwardedClientCert(req),
    });
    exchange.requestId = built.requestId;
    if (routed.authority !== undefined) replaceHost(built.headers, routed.authority);
    else if (!built.host) built.headers.push("host", routed.route.config.cluster);
    if (!hasBody && contentLength === undefined && methodHasBodyByDefault(req.method!))
      built.headers.push("content-length", "0");
    filters?.editRequestHeaders(built.headers);
    const options: ForwardOptions = {
      req,
      res,
      exchange,
      route: routed.route.config,
      cluster,
      path: filters ? filters.editTarget(routed.path) : routed.path,
      headers: built.headers,
      hasBody,
      needsNodeHttp: chunked || req.headers.expect !== undefined,
      maxBodyBytes: this.config.maxRequestBodyBytes,
      streamIdleMs: this.config.streamIdleTimeoutSeconds * 1000,
      metrics: this.#options.metrics,
      routeTimeouts: this.#routeTimeouts.get(routed.route.config),
      draining: () => this.#draining,
      done,
      responseHeaders: filters,
    };
    const bufferable =
      hasBody &&
      !options.needsNodeHttp &&
      Number(contentLength) <= routed.route.config.retries.bufferBytes &&
      isReplayable(req) &&
      routed.route.config.retries.maxRetries > 0 &&
      this.#options.memory?.pressure.active !== true;
    if (!bufferable) {
      forward(options);
      return;
    }
    // An idempotent body up to retries.bufferBytes is read whole first so that a failed try can be retried.
    const chunks: Buffer[] = [];
    let forwarded = false;
    res.once("close", () => {
      if (!forwarded) {
        addFlag(exchange, "DC");
        done();
      }
    });
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => {
      if (res.destroyed) return;
      forwarded = true;
      const body = Buffer.concat(chunks);
      exchange.bytesReceived = body.length;
      forward({ ...options, body });
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // node:http emits a pipelined Upgrade as soon as its head is parsed, with responses still
    // queued ahead of it: it waits its turn, so those are written (and their requests end)
    // first. Each finished response gives the socket to the next.
    const ahead = responseInProgress(socket);
    if (ahead !== undefined) {
      this.#upgradeAfter(ahead, req, socket, head);
      return;
    }
    // A response ahead closed the connection: nothing after it is answered or forwarded.
    if (socket.writableEnded || socket.destroyed) {
      socket.destroy();
      return;
    }
    const peer = req.socket.remoteAddress ?? "";
    const requestId = validRequestId(req) ?? newRequestId();
    const idleMs = this.config.streamIdleTimeoutSeconds * 1000;
    const refuse = (answer: string) => answerAndClose(socket, answer, idleMs);
    if (this.#draining) {
      refuse(
        rawLocalReply(
          {
            status: 503,
            code: ProxyErrorCodes.NO_HEALTHY_UPSTREAM,
            flag: "DR",
            message: "The proxy is draining",
          },
          requestId,
          "Service Unavailable",
        ),
      );
      return;
    }
    const tooLong = this.#urlTooLong(req);
    if (tooLong) {
      refuse(rawLocalReply(tooLong, requestId, statusText(tooLong.status)));
      return;
    }
    // node:http hands an Upgrade request over without reading its body: the body's bytes would
    // go upstream after the 101 as the new protocol's, or be read there as another request.
    const length = req.headers["content-length"];
    if (
      req.headers["transfer-encoding"] !== undefined ||
      (length !== undefined && length !== "0")
    ) {
      refuse(
        rawLocalReply(
          {
            status: 400,
            code: ProxyErrorCodes.BAD_REQUEST,
            flag: "DPE",
            message: "An Upgrade request cannot carry a body",
          },
          requestId,
          "Bad Request",
        ),
      );
      return;
    }
    const certRefused = this.#security.refuse(req);
    if (certRefused) {
      refuse(rawLocalReply(certRefused, requestId, statusText(certRefused.status)));
      return;
    }
    const routed = this.route(req);
    const chain = this.#chainFor(routed);
    if (chain === undefined) {
      this.#tunnel(req, socket, head, routed, peer, requestId, undefined);
      return;
    }
    const filters = new RequestFilterContext(req, chain, {
      listener: this.config.name,
      route: "route" in routed ? routed.route.name : "",
      clientAddress: this.#clientAddress(req, peer),
      upgrade: true,
      path: "route" in routed ? routed.matchedPath : undefined,
    });
    this.#security.recordPrincipal(req, filters);
    const refuseWith = (reply: LocalReply) =>
      refuse(rawLocalReply(reply, requestId, statusText(reply.status), filters));
    const result = chain.run(filters);
    if (result === undefined) this.#tunnel(req, socket, head, routed, peer, requestId, filters);
    else if (!(result instanceof Promise)) refuseWith(result);
    else {
      // An async filter: a drain meanwhile closes the socket like any tunnel's.
      socket.on("error", () => socket.destroy());
      this.#tunnels.add(socket);
      socket.once("close", () => this.#tunnels.delete(socket));
      void result.then((reply) => {
        if (socket.destroyed) return;
        if (reply) refuseWith(reply);
        else this.#tunnel(req, socket, head, routed, peer, requestId, filters);
      });
    }
  }

  /**
   * An Upgrade waiting for the response ahead of it. node:http no longer reads the socket (nor
   * closes it when the client leaves, nor listens for its errors): it is read meanwhile, what
   * comes kept for the tunnel (up to `maxKeptUpgradeBytes`, then reading pauses), so that a
   * client that leaves closes the connection, and the requests queued on it end.
   */
  #upgradeAfter(ahead: ServerResponse, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const kept = [head];
    let keptBytes = head.length;
    const onData = (chunk: Buffer) => {
      kept.push(chunk);
      keptBytes += chunk.length;
      if (keptBytes > maxKeptUpgradeBytes) socket.pause();
    };
    const leave = () => socket.destroy();
    socket.on("data", onData);
    socket.on("end", leave);
    socket.on("error", leave);
    ahead.once("finish", () => {
      socket.off("data", onData);
      socket.off("end", leave);
      socket.off("error", leave);
      socket.pause();
      this.#upgrade(req, socket, kept.length === 1 ? head : Buffer.concat(kept));
    });
  }

  /** Past the filters: sends the Upgrade request upstream and joins the sockets on 101. */
  #tunnel(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    routed: Routed,
    peer: string,
    requestId: string,
    filters: RequestFilterContext | undefined,
  ): void {
    if (!("route" in routed)) {
      answerAndClose(
        socket,
        rawLocalReply(routed, requestId, statusText(routed.status), filters),
        this.config.streamIdleTimeoutSeconds * 1000,
      );
      return;
    }
    const built = upstreamRequestHeaders(req.rawHeaders, {
      clientAddress: peer,
      proto: this.#security.proto,
      upgrade: true,
      chunked: false,
      identityHeaders: this.#security.identityHeaders,
      forwardedClientCert: this.#security.forwardedClientCert(req),
    });
    if (routed.authority !== undefined) replaceHost(built.headers, routed.authority);
    filters?.editRequestHeaders(built.headers);
    this.#tunnels.add(socket);
    socket.once("close", () => this.#tunnels.delete(socket));
    tunnelUpgrade({
      socket,
      head,
      method: req.method!,
      path: filters ? filters.editTarget(routed.path) : routed.path,
      headers: built.headers,
      cluster: routed.cluster,
      requestId: built.requestId,
      idleMs: this.config.streamIdleTimeoutSeconds * 1000,
      responseHeaders: filters,
    });
  }

  #clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const inProgress = responseInProgress(socket);
    // The request in progress was read whole: the error is in one pipelined after it. It is
    // looked at again once that response is written (node:http then gives the socket to the
    // next one queued, or to none): answered in its turn, as on node:net.
    if (inProgress?.req.complete) {
      inProgress.once("finish", () => this.#clientError(error, socket));
      return;
    }
    // A request whose headers were fine but whose body is malformed has a response in progress.
    if (inProgress && !inProgress.headersSent && socket.writable) {
      sendLocalReply(
        inProgress,
        {
          status: 400,
          code: ProxyErrorCodes.BAD_REQUEST,
          flag: "DPE",
          message: `Malformed request body: ${error.code ?? "parse error"}`,
        },
        newRequestId(),
        true,
      );
      return;
    }
    if (!socket.writable || inProgress) {
      socket.destroy();
      return;
    }
    const answer = clientErrorReply(error.code, this.config);
    if (!answer) {
      socket.destroy();
      return;
    }
    this.#refuseRaw(socket, answer);
  }

  /** A request the node:net side cannot parse: answered like node:http's client errors. */
  #refused(socket: Socket, code: RequestErrorCode, status: number, message: string): void {
    const answer =
      status === 431
        ? clientErrorReply("HPE_HEADER_OVERFLOW", this.config)!
        : {
            reason: statusText(status),
            reply: {
              status,
              code: ProxyErrorCodes.BAD_REQUEST,
              flag: "DPE",
              message: `Malformed request: ${code}: ${message}`,
            },
          };
    this.#refuseRaw(socket, answer);
  }

  /** Answers a request that was never parsed (or never arrived) and closes its connection. */
  #refuseRaw(socket: Duplex, { reply, reason }: { reply: LocalReply; reason: string }): void {
    socket.end(rawLocalReply(reply, newRequestId(), reason));
    this.#options.metrics.requests.inc({
      ...this.#labels,
      route: "",
      cluster: "",
      method: "OTHER",
      status_class: `${String(reply.status)[0]}xx`,
    });
  }

  /**
   * Stops accepting; idle keep-alive connections close now, busy ones after their response
   * (which carries Connection: close). Resolves when no request is in flight or on `deadline`,
   * then closes every connection and tunnel.
   */
  async drain(deadline: AbortSignal): Promise<void> {
    this.#draining = true;
    this.#untrack?.();
    this.#gate?.close();
    const closed = new Promise<void>((resolve) =>
      (this.#net?.server ?? this.#server).close(() => resolve()),
    );
    // On a plain listener, this stops node:http's connection checks.
    if (this.#net) this.#server.close(() => {});
    this.#net?.drain();
    this.#server.closeIdleConnections();
    if (this.#inFlight > 0 && !deadline.aborted) {
      await new Promise<void>((resolve) => {
        this.#idleWaiters.push(resolve);
        deadline.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    this.#server.closeAllConnections();
    this.#net?.closeAll();
    for (const tunnel of this.#tunnels) tunnel.destroy();
    this.#security.close();
    await Promise.race([
      closed,
      new Promise<void>((resolve) => {
        if (deadline.aborted) resolve();
        deadline.addEventListener("abort", () => resolve(), { once: true });
      }),
    ]);
  }
}

/** What an Upgrade waiting for the responses ahead of it reads and keeps before it pauses. */
const maxKeptUpgradeBytes = 64 * 1024;

/** The response node:http is writing on a socket (its own `_httpMessage`), if any. */
function responseInProgress(socket: Duplex): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/** The responses node:http holds queued on each socket, for closeWithSocket. */
const queuedResponses = new WeakMap<Duplex, Set<ServerResponse>>();

/**
 * Closes a queued response when its socket closes before node:http gave it the socket, so that
 * what listens for its `close` (the request's end, the upstream request's abort) runs. One
 * `close` listener per socket, however many responses are queued on it (a client may pipeline
 * dozens); each leaves the socket's set once closed.
 */
function closeWithSocket(res: ServerResponse, socket: Duplex): void {
  if (socket.destroyed) {
    process.nextTick(closeQueued, res);
    return;
  }
  let queued = queuedResponses.get(socket);
  if (queued === undefined) {
    const responses = new Set<ServerResponse>();
    queued = responses;
    queuedResponses.set(socket, responses);
    socket.once("close", () => {
      queuedResponses.delete(socket);
      for (const response of responses) closeQueued(response);
    });
  }
  queued.add(res);
  res.once("close", () => queued.delete(res));
}

function closeQueued(res: ServerResponse): void {
  // Given the socket, or finished on it: node:http closes it itself.
  if (res.socket !== null || res.writableFinished || res.destroyed) return;
  res.destroy();
  res.emit("close");
}

function statusText(status: number): string {
  return http.STATUS_CODES[status] ?? "Error";
}

function validRequestId(req: DownstreamRequest): string | undefined {
  const value = req.headers["x-request-id"];
  return typeof value === "string" && /^[\x21-\x7e]{1,200}$/.test(value) ? value : undefined;
}

/** Sets Host to the absolute-form target's authority (RFC 9112 §3.2.2). */
function replaceHost(headers: string[], authority: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === "host") {
      headers[i + 1] = authority;
      return;
    }
  }
  headers.push("host", authority);
}
