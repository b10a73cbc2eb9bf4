import { connect, type Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { tls as tlsModule } from "../../runtime/builtins.ts";
import { type ResponseHandlers, ResponseParser } from "./response-parser.ts";

/** What the try using a connection hears: its parser's callbacks and the socket's failures. */
export interface ConnectionHandlers extends ResponseHandlers {
  /** The socket failed, closed or timed out (not a protocol error). */
  onSocketError(message: string): void;
  /** The parser has read a chunk of the response (after its callbacks). */
  afterFeed(): void;
}

/** One keep-alive connection to an endpoint with its response parser. */
export class RawConnection {
  readonly socket: Socket;
  readonly parser: ResponseParser;
  /** The try using the connection now; undefined while idle in the pool. */
  handlers: ConnectionHandlers | undefined;
  /** A response has been exchanged before (a reused connection may be stale). */
  reused = false;
  /**
   * The socket's timeout is the response body's idle timeout (watchBody), not the pool's idle
   * one. Otherwise a timeout while in use is ignored: the try waits for the head under its own
   * timers, and the next byte re-arms the socket's timeout.
   */
  watchingBody = false;
  /**
   * The socket reads into the pool's shared read buffer (plain TCP): the chunks the parser
   * passes on are views valid only until the read callback returns.
   */
  readonly sharedReads: boolean;

  constructor(socket: Socket, sharedReads: boolean) {
    this.socket = socket;
    this.sharedReads = sharedReads;
    this.parser = new ResponseParser({
      onInfo: (status, raw) => this.handlers?.onInfo?.(status, raw),
      onHead: (status, message, raw, length) => this.handlers?.onHead(status, message, raw, length),
      onBody: (chunk) => this.handlers?.onBody(chunk),
      onEnd: (trailers, keepAlive) => this.handlers?.onEnd(trailers, keepAlive),
      onError: (message) => {
        if (this.handlers) this.handlers.onError(message);
        else socket.destroy();
      },
    });
  }

  /** From now on, `ms` without a byte from the upstream is an error (0: never). */
  watchBody(ms: number): void {
    this.watchingBody = true;
    this.socket.setTimeout(ms);
  }
}

export interface RawPoolOptions {
  host: string;
  port: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** TLS to the endpoint; plain TCP when undefined. */
  tls?: ConnectionOptions | undefined;
}

let readBuffer: Buffer | undefined;

/** The read buffer of every plain upstream connection, made on first use. */
function sharedReadBuffer(): Buffer {
  readBuffer ??= Buffer.allocUnsafe(64 * 1024);
  return readBuffer;
}

/** A request waiting for a connection: given one, or undefined when the pool closes. */
export type ConnectionWaiter = (connection: RawConnection | undefined) => void;

/**
 * Idle keep-alive connections to one endpoint, reused last-in first-out; a connection that
 * stays idle past idleTimeoutMs, or that the server closes, is dropped. A socket's timeout is
 * set once, to idleTimeoutMs, and left armed while the connection is in use (each byte re-arms
 * it): changing it per request would create and cancel timers on the hot path.
 *
 * At most maxConnections are open (Envoy's max_connections); more requests wait in order
 * (its pending requests) and a released connection goes straight to the first of them, so a
 * burst of requests does not open a connection each beyond the limit: each open connection
 * costs memory on both sides.
 */
export class RawPool {
  readonly #options: RawPoolOptions;
  readonly #idle: RawConnection[] = [];
  /** Requests waiting for a connection, first come first served (a Set keeps insertion order). */
  readonly #waiting = new Set<ConnectionWaiter>();
  #open = 0;
  #closed = false;

  constructor(options: RawPoolOptions) {
    this.#options = options;
  }

  /** Connections open (idle, in use or connecting). */
  get open(): number {
    return this.#open;
  }

  /** Requests waiting for a connection. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Queues `waiter` for the next connection released or opened (use it when acquire() returned
   * undefined); the function returned withdraws it.
   */
  wait(waiter: ConnectionWaiter): () => void {
    if (this.#closed) {
      waiter(undefined);
      return () => {};
    }
    this.#waiting.add(waiter);
    return () => this.#waiting.delete(waiter);
  }

  /** The first waiter, removed from the queue. */
  #nextWaiter(): ConnectionWaiter | undefined {
    for (const waiter of this.#waiting) {
      this.#waiting.delete(waiter);
      return waiter;
    }
    return undefined;
  }

  /** A connection closed: the first waiter gets a new one in its place. */
  #replaceClosed(): void {
    if (this.#waiting.size === 0 || this.#closed) return;
    const connection = this.acquire();
    if (connection) this.#nextWaiter()!(connection);
  }

  /** An idle connection, or a new one (connecting), or undefined when at maxConnections. */
  acquire(): RawConnection | undefined {
    for (;;) {
      const idle = this.#idle.pop();
      if (!idle) break;
      if (idle.socket.destroyed || !idle.socket.writable) continue;
      idle.socket.ref();
      return idle;
    }
    if (this.#open >= this.#options.maxConnections || this.#closed) return undefined;
    const { host, port, tls } = this.#options;
    const onChunk = (chunk: Buffer) => {
      const handlers = connection.handlers;
      if (handlers) {
        connection.parser.feed(chunk);
        handlers.afterFeed();
      } else socket.destroy(); // bytes on an idle connection: it is broken
    };
    // Plain TCP reads into one buffer shared by every connection (a read is consumed before the
    // next starts): no 64 KiB allocation, copy to the read's size and stream push per read.
    const socket = tls
      ? tlsModule.connect({ ...tls, host, port }).setNoDelay(true)
      : connect({
          host,
          port,
          noDelay: true,
          onread: {
            buffer: sharedReadBuffer(),
            // true: reading goes on unless a handler paused the socket (backpressure).
            callback: (bytes: number, buffer: Uint8Array) => {
              onChunk((buffer as Buffer).subarray(0, bytes));
              return true;
            },
          },
        });
    const connection = new RawConnection(socket, !tls);
    this.#open += 1;
    socket.setTimeout(this.#options.idleTimeoutMs);
    if (tls) socket.on("data", onChunk);
    socket.on("end", () => {
      if (connection.handlers) connection.parser.eof();
      socket.destroy();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      connection.handlers?.onSocketError(`${error.code ?? error.message}`);
    });
    socket.on("close", () => {
      this.#open -= 1;
      const i = this.#idle.indexOf(connection);
      if (i !== -1) this.#idle.splice(i, 1);
      connection.handlers?.onSocketError("connection closed");
      this.#replaceClosed();
    });
    socket.on("timeout", () => {
      if (!connection.handlers) socket.destroy();
      else if (connection.watchingBody)
        connection.handlers.onSocketError("timeout: no bytes from the upstream");
    });
    return connection;
  }

  /** Returns a connection after a complete response; it stays open for the next request. */
  release(connection: RawConnection): void {
    connection.handlers = undefined;
    connection.reused = true;
    if (this.#closed || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    if (connection.watchingBody) {
      connection.watchingBody = false;
      connection.socket.setTimeout(this.#options.idleTimeoutMs);
    }
    if (this.#waiting.size > 0) {
      // Handed over on the next tick: release() runs inside the parser's onEnd, which must
      // return before the connection's parser starts on the next response.
      process.nextTick(() => this.#handOver(connection));
      return;
    }
    connection.socket.unref();
    this.#idle.push(connection);
  }

  /** Gives a released connection to the first waiter, or back to the idle ones. */
  #handOver(connection: RawConnection): void {
    if (connection.socket.destroyed || !connection.socket.writable) {
      connection.socket.destroy();
      return; // its close event opens a connection for a waiter
    }
    const waiter = this.#nextWaiter();
    if (waiter) waiter(connection);
    else if (this.#closed) connection.socket.destroy();
    else {
      connection.socket.unref();
      this.#idle.push(connection);
    }
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.socket.destroy();
    for (let waiter = this.#nextWaiter(); waiter; waiter = this.#nextWaiter()) waiter(undefined);
  }
}
