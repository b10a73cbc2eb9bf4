import type { Server as HttpServer } from "node:http";
import type { Server, Socket } from "node:net";
import type { Server as TlsServer } from "node:tls";
import { net } from "../../runtime/builtins.ts";
import type { RequestErrorCode } from "../transport/request-parser.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream.ts";
import { type ConnectionOwner, NetConnection } from "./net-connection.ts";

export interface NetHttpServerOptions {
  /** node:http's maxHeaderSize. */
  maxHeaderBytes: number;
  /** A head not complete this long after it began (or after the connection opened): 408. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** A connection with a request in flight and no bytes either way for this long is closed. */
  streamIdleMs: number;
  /** How often the headers and keep-alive timeouts are looked at. */
  checkIntervalMs: number;
  /** Requests the listener answers. */
  onRequest(req: DownstreamRequest, res: DownstreamResponse): void;
  /** A request that cannot be parsed: answer `status` on the socket and end it. */
  onRefused(socket: Socket, code: RequestErrorCode, status: number, message: string): void;
  /** The headers timeout passed: answer 408 on the socket and end it. */
  onHeadersTimeout(socket: Socket): void;
  /**
   * Where requests that need node:http go (upgrades, chunked bodies, Expect): a plain
   * node:http server, also for TLS (it is handed the decrypted socket).
   */
  fallback: HttpServer;
  /** For a TLS listener: the tls.Server whose secure connections are served. Default: plain. */
  tlsServer?: TlsServer | undefined;
}

/**
 * The proxy's HTTP/1.1 server on `node:net` (or `node:tls` for a TLS listener): requests are parsed by
 * RequestParser and answered through NetRequest/NetResponse, which cost less CPU per request
 * than node:http's server (issue 16). A request that needs what only node:http does here (an
 * upgrade or CONNECT, a chunked body, Expect: 100-continue) hands its connection to the
 * `fallback` node:http server, which has the same options and serves it from then on. One
 * interval looks at every connection's headers and keep-alive timeouts, as node:http does.
 */
export class NetHttpServer implements ConnectionOwner {
  /** The server that listens: a net.Server, or the tls.Server given. */
  readonly server: Server;
  readonly #options: NetHttpServerOptions;
  readonly #connections = new Set<NetConnection>();
  #timer: NodeJS.Timeout | undefined;
  #draining = false;

  constructor(options: NetHttpServerOptions) {
    this.#options = options;
    this.server = options.tlsServer ?? net.createServer({ noDelay: true });
    this.server.on(options.tlsServer ? "secureConnection" : "connection", (socket: Socket) =>
      this.#accept(socket),
    );
    this.server.once("listening", () => {
      this.#timer = setInterval(() => this.#check(), options.checkIntervalMs).unref();
    });
    this.server.once("close", () => clearInterval(this.#timer));
    // node:http sets up its connection tracking (the headers timeout, closeIdleConnections) on
    // 'listening'. The fallback never listens, it is handed connections: tracking starts now.
    options.fallback.emit("listening");
  }

  get maxHeaderBytes(): number {
    return this.#options.maxHeaderBytes;
  }

  get keepAliveTimeoutMs(): number {
    return this.#options.keepAliveTimeoutMs;
  }

  get draining(): boolean {
    return this.#draining;
  }

  #accept(socket: Socket): void {
    this.#connections.add(new NetConnection(socket, this, Date.now()));
    socket.setTimeout(this.#options.streamIdleMs);
  }

  handle(req: DownstreamRequest, res: DownstreamResponse): void {
    this.#options.onRequest(req, res);
  }

  refuse(socket: Socket, code: RequestErrorCode, status: number, message: string): void {
    this.#options.onRefused(socket, code, status, message);
  }

  handOff(socket: Socket, bytes: Buffer): void {
    // Paused, so that node:http's 'data' listener does not find the stream flowing already
    // (then the bytes put back would wait for a read that never comes: node:http reads the
    // socket's handle itself); resumed after, they are the first bytes it parses.
    socket.pause();
    socket.unshift(bytes);
    this.#options.fallback.emit("connection", socket);
    socket.resume();
  }

  forget(connection: NetConnection): void {
    this.#connections.delete(connection);
  }

  /** Stops accepting; idle connections close now, busy ones after their response. */
  drain(): void {
    this.#draining = true;
    this.server.close();
    for (const connection of this.#connections) connection.closeIfIdle();
  }

  /** Closes every connection still open (a drain's deadline). */
  closeAll(): void {
    for (const connection of this.#connections) connection.socket.destroy();
  }

  #check(): void {
    const now = Date.now();
    const { headersTimeoutMs, keepAliveTimeoutMs } = this.#options;
    for (const connection of this.#connections) {
      if (connection.headStartedAt !== 0 && now - connection.headStartedAt > headersTimeoutMs) {
        connection.headStartedAt = 0;
        connection.stopReading();
        this.#connections.delete(connection);
        this.#options.onHeadersTimeout(connection.socket);
      } else if (connection.idleSince !== 0 && now - connection.idleSince > keepAliveTimeoutMs)
        connection.socket.destroy();
    }
  }
}
