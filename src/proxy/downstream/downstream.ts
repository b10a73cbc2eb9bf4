import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";

/** An event listener (its arguments depend on the event), as node's own typings have it. */
// biome-ignore lint/suspicious/noExplicitAny: the arguments depend on the event name
type Listener = (...args: any[]) => void;

/**
 * A client's request as the proxy reads it: what the listener, the filters and the forwarder
 * use of node:http's IncomingMessage, so that a request parsed on `node:net` (NetRequest) and
 * one parsed by node:http (TLS listeners, chunked bodies, Expect, upgrades) go the same way.
 * The body is read with `data`/`end` listeners, `pause()` and `resume()`, as a Readable's.
 */
export interface DownstreamRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  /** "1.1" or "1.0". */
  readonly httpVersion: string;
  /** Lower-case names, duplicates joined as node:http joins them (`joinDuplicateHeaders: false`). */
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  /** A chunked body's trailers, once its `end` was emitted. */
  readonly rawTrailers: string[];
  readonly socket: Socket;
  on(event: string, listener: Listener): this;
  once(event: string, listener: Listener): this;
  off(event: string, listener: Listener): this;
  pause(): this;
  resume(): this;
  isPaused(): boolean;
}

/**
 * The response to a DownstreamRequest: what the proxy uses of node:http's ServerResponse.
 * `close` is emitted once: after `finish` (the whole response was handed to the socket), or
 * when the connection closed before. `drain` follows a `write` that returned false.
 */
export interface DownstreamResponse {
  readonly req: DownstreamRequest;
  readonly socket: Socket | null;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  /** False: the connection closes after this response (Connection: close is sent). */
  shouldKeepAlive: boolean;
  writeHead(status: number, message: string, headers: OutgoingHttpHeaders | string[]): this;
  writeHead(status: number, headers?: OutgoingHttpHeaders | string[]): this;
  write(chunk: Buffer | string, callback?: (error?: Error | null) => void): boolean;
  write(
    chunk: Buffer | string,
    encoding: BufferEncoding,
    callback?: (error?: Error | null) => void,
  ): boolean;
  end(callback?: () => void): this;
  end(chunk: Buffer | string, callback?: () => void): this;
  end(chunk: Buffer | string | undefined, encoding: BufferEncoding, callback?: () => void): this;
  /** Trailers sent after a chunked body's last chunk (ignored when the body is not chunked). */
  addTrailers(headers: OutgoingHttpHeaders | readonly [string, string][] | string[]): void;
  /** Sends `100 Continue`. */
  writeContinue(): void;
  /** Sends `103 Early Hints` with these Link values. */
  writeEarlyHints(hints: { link: string | string[] }): void;
  /** Resets the connection (a response that cannot be completed). */
  destroy(error?: Error): this;
  on(event: string, listener: Listener): this;
  once(event: string, listener: Listener): this;
  off(event: string, listener: Listener): this;
}
