import { EventEmitter } from "node:events";
import type { OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { http } from "../../runtime/builtins.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream.ts";

const { STATUS_CODES, validateHeaderName, validateHeaderValue } = http;

/**
 * node:http's ServerResponse on a plain node:net socket: the same bytes on the wire for the same
 * calls (server options `joinDuplicateHeaders: false`, `keepAliveTimeout` as given), the Date
 * value aside. The connection driver makes one per request, in order: the next response of a
 * connection is made once this one's `onFinished` ran (or its socket closed).
 *
 * Differences from ServerResponse, on purpose: no setHeader/getHeader (headers are given to
 * writeHead); writes are not buffered before a socket (there always is one); a write() is not
 * corked until the next tick (its pieces go in one socket write, separate write() calls go in
 * separate ones: the same bytes, except that a destroy() in the same tick as a write() loses
 * that write on node:http, which held it, and not here: either way the client sees a body cut
 * short and the connection closed); `close` follows `finish` synchronously rather than on the next
 * tick; end() after end() with data emits ERR_STREAM_WRITE_AFTER_END as write() does, and does
 * not emit `finish` again; `socket` stays set after `finish`.
 */
export interface NetResponseOptions {
  /** The request allows the connection to stay open (RequestHead.keepAlive) and the listener is not draining. */
  keepAlive: boolean;
  /** HTTP/1.0 request (no chunked coding by default: close-delimited instead). */
  http10: boolean;
  /** node's server.keepAliveTimeout in ms: `Keep-Alive: timeout=<floor(ms/1000)>` on keep-alive responses; 0 = none. */
  keepAliveTimeoutMs: number;
  /**
   * Called once, when the whole response has been handed to the socket (its last write's
   * callback), before `finish` and `close` are emitted. `keepAlive` false: the driver closes the
   * connection.
   */
  onFinished: (keepAlive: boolean) => void;
}

type WriteCallback = (error?: Error | null) => void;

const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const CONNECTION_CLOSE = /(?:^|\W)close(?:$|\W)/i;
const TE_CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;
/** Anything but visible ASCII, SP and HTAB: a value to check with INVALID_VALUE_CHAR. */
const NOT_PLAIN = /[^\t\x20-\x7e]/;
const LINK_VALUE = /^(?:<[^>]*>)(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$/;
/** Below this, end(buffer) before the head went joins head and body in one latin1 string. */
const JOIN_LIMIT = 4096;

function codedError<E extends Error>(error: E, code: string): E {
  return Object.assign(error, { code });
}

/** Throws node:http's own error for a bad header name or value (same class, code and message). */
function invalidHeader(name: unknown, value: unknown, kind: "Header" | "Trailer"): never {
  if (typeof name !== "string" || !name || !TOKEN.test(name)) {
    if (kind === "Header") validateHeaderName(name as string);
    throw codedError(
      new TypeError(`${kind} name must be a valid HTTP token ["${String(name)}"]`),
      "ERR_INVALID_HTTP_TOKEN",
    );
  }
  if (kind === "Header") validateHeaderValue(name, value as string);
  throw codedError(
    new TypeError(`Invalid character in trailer content ["${name}"]`),
    "ERR_INVALID_CHAR",
  );
}

// The Date value, rebuilt once a second like node's utcDate().
let dateCache: string | undefined;
function utcDate(): string {
  if (dateCache === undefined) {
    const now = new Date();
    dateCache = now.toUTCString();
    setTimeout(resetDate, 1000 - now.getMilliseconds()).unref();
  }
  return dateCache;
}
function resetDate(): void {
  dateCache = undefined;
}

/** What a head's fields say about the framing and the connection (node's _storeHeader state). */
interface HeadState {
  head: string;
  connection: boolean;
  contentLength: boolean;
  te: boolean;
  chunked: boolean;
  date: boolean;
  trailer: boolean;
  /** A Connection field other than close: keep the connection (node sets shouldKeepAlive). */
  keepAlive: boolean;
  close: boolean;
  /** A value has characters above 0x7f (the head is latin1, not ASCII). */
  latin1: boolean;
}

function storeField(state: HeadState, name: string, value: unknown): void {
  if (value === undefined) {
    validateHeaderValue(name, value as unknown as string);
  }
  if (typeof value !== "number" && NOT_PLAIN.test(value as string)) {
    if (INVALID_VALUE_CHAR.test(value as string)) invalidHeader(name, value, "Header");
    state.latin1 = true;
  }
  state.head += `${name}: ${value}\r\n`;
  const n = name.length;
  if (n < 4 || n > 17) return;
  switch (name.toLowerCase()) {
    case "connection":
      state.connection = true;
      if (CONNECTION_CLOSE.test(value as string)) state.close = true;
      else state.keepAlive = true;
      break;
    case "transfer-encoding":
      state.te = true;
      if (TE_CHUNKED.test(value as string)) state.chunked = true;
      break;
    case "content-length":
      state.contentLength = true;
      break;
    case "date":
      state.date = true;
      break;
    case "trailer":
      state.trailer = true;
      break;
  }
}

function storeHeader(state: HeadState, name: unknown, value: unknown): void {
  if (typeof name !== "string" || !TOKEN.test(name)) invalidHeader(name, value, "Header");
  if (Array.isArray(value)) {
    if (value.length < 2 || name.length !== 6 || name.toLowerCase() !== "cookie") {
      for (let i = 0; i < value.length; i++) storeField(state, name, value[i]);
      return;
    }
    storeField(state, name, value.join("; "));
    return;
  }
  storeField(state, name, value);
}

function invalidArgValue(name: string, value: unknown): TypeError {
  return codedError(
    new TypeError(`The argument '${name}' is invalid. Received ${String(value)}`),
    "ERR_INVALID_ARG_VALUE",
  );
}

function emitError(response: NetResponse, error: Error, callback: WriteCallback | undefined) {
  callback?.(error);
  if (!response.closed) response.emit("error", error);
}

/** The socket's `drain` after a write returned false, passed on to the response that wrote. */
const drainTarget = Symbol("NetResponse.drainTarget");
/** The response whose last write is on the socket, and the callback (one per connection). */
const ending = Symbol("NetResponse.ending");
const onLastWrite = Symbol("NetResponse.onLastWrite");

interface ResponseSocket extends Socket {
  [drainTarget]?: NetResponse | undefined;
  [ending]?: NetResponse | undefined;
  [onLastWrite]?: WriteCallback;
}

function onSocketDrain(this: ResponseSocket): void {
  const response = this[drainTarget];
  this[drainTarget] = undefined;
  if (response && !response.closed) response.emit("drain");
}

function lastWriteDone(socket: ResponseSocket, error?: Error | null): void {
  const response = socket[ending];
  socket[ending] = undefined;
  response?.lastWriteDone(error);
}

export class NetResponse extends EventEmitter implements DownstreamResponse {
  readonly socket: Socket;
  readonly req: DownstreamRequest;
  statusCode = 200;
  statusMessage: string | undefined = undefined;
  shouldKeepAlive: boolean;
  /** Whether `close` was emitted (once, ever). */
  closed = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;

  #options: NetResponseOptions;
  /** The head, built by writeHead (or the first write/end), until it went out with a body write. */
  #head: string | undefined = undefined;
  #headSent = false;
  /** The head has characters above 0x7f: it cannot go in one utf8 string with a chunk. */
  #headLatin1 = false;
  #hasBody: boolean;
  #chunked = false;
  /** The connection closes after this response (node's `_last`). */
  #last = false;
  #trailer = "";

  constructor(socket: Socket, req: DownstreamRequest, options: NetResponseOptions) {
    super();
    this.socket = socket;
    this.req = req;
    this.#options = options;
    this.shouldKeepAlive = options.keepAlive;
    this.#hasBody = req.method !== "HEAD";
  }

  get headersSent(): boolean {
    return this.#head !== undefined;
  }

  writeHead(status: number, message: string, headers: OutgoingHttpHeaders | string[]): this;
  writeHead(status: number, headers?: OutgoingHttpHeaders | string[]): this;
  writeHead(
    status: number,
    message?: string | OutgoingHttpHeaders | string[],
    headers?: OutgoingHttpHeaders | string[],
  ): this {
    if (this.#head !== undefined)
      throw codedError(
        new Error("Cannot write headers after they are sent to the client"),
        "ERR_HTTP_HEADERS_SENT",
      );
    const code = status | 0;
    if (code < 100 || code > 999)
      throw codedError(
        new RangeError(`Invalid status code: ${status}`),
        "ERR_HTTP_INVALID_STATUS_CODE",
      );
    if (typeof message === "string") this.statusMessage = message;
    else {
      this.statusMessage ||= STATUS_CODES[code] || "unknown";
      headers ??= message;
    }
    this.statusCode = code;
    if (NOT_PLAIN.test(this.statusMessage) && INVALID_VALUE_CHAR.test(this.statusMessage))
      throw codedError(new TypeError("Invalid character in statusMessage"), "ERR_INVALID_CHAR");
    this.#storeHead(`HTTP/1.1 ${code} ${this.statusMessage}\r\n`, headers, undefined);
    return this;
  }

  /** node's _storeHeader: validates every field first, then commits the framing decisions. */
  #storeHead(
    statusLine: string,
    headers: OutgoingHttpHeaders | string[] | undefined,
    contentLength: number | undefined,
  ): void {
    const state: HeadState = {
      head: statusLine,
      connection: false,
      contentLength: false,
      te: false,
      chunked: false,
      date: false,
      trailer: false,
      keepAlive: false,
      close: false,
      latin1: NOT_PLAIN.test(this.statusMessage as string),
    };
    if (headers) {
      if (Array.isArray(headers)) {
        if (headers.length && Array.isArray(headers[0])) {
          for (let i = 0; i < headers.length; i++) {
            const entry = headers[i] as unknown as [string, string];
            storeHeader(state, entry[0], entry[1]);
          }
        } else {
          if (headers.length % 2 !== 0) throw invalidArgValue("headers", headers);
          for (let i = 0; i < headers.length; i += 2)
            storeHeader(state, headers[i], headers[i + 1]);
        }
      } else {
        for (const name in headers)
          if (Object.hasOwn(headers, name)) storeHeader(state, name, headers[name]);
      }
    }
    const code = this.statusCode;
    let hasBody = this.#hasBody;
    if (code === 204 || code === 304 || (code >= 100 && code <= 199)) hasBody = false;
    let head = state.head;
    if (!state.date) head += `Date: ${utcDate()}\r\n`;
    let chunked = state.chunked;
    let shouldKeepAlive = this.shouldKeepAlive || state.keepAlive;
    let last = state.close;
    if (chunked && (code === 204 || code === 304)) {
      chunked = false;
      shouldKeepAlive = false;
    }
    const chunkedByDefault =
      !this.#options.http10 || TE_CHUNKED.test((this.req.headers.te as string | undefined) ?? "");
    if (!state.connection) {
      if (shouldKeepAlive && (state.contentLength || chunkedByDefault)) {
        head += "Connection: keep-alive\r\n";
        const timeout = this.#options.keepAliveTimeoutMs;
        if (timeout) head += `Keep-Alive: timeout=${Math.floor(timeout / 1000)}\r\n`;
      } else {
        last = true;
        head += "Connection: close\r\n";
      }
    }
    if (!state.contentLength && !state.te) {
      if (!hasBody) chunked = false;
      else if (!chunkedByDefault) last = true;
      else if (!state.trailer && contentLength !== undefined)
        head += `Content-Length: ${contentLength}\r\n`;
      else {
        head += "Transfer-Encoding: chunked\r\n";
        chunked = true;
      }
    }
    if (!chunked && state.trailer)
      throw codedError(
        new Error("Trailers are invalid with this transfer encoding"),
        "ERR_HTTP_TRAILER_INVALID",
      );
    this.#head = `${head}\r\n`;
    this.#headLatin1 = state.latin1;
    this.#hasBody = hasBody;
    this.#chunked = chunked;
    this.#last = last;
    this.shouldKeepAlive = shouldKeepAlive;
  }

  #implicitHead(contentLength: number | undefined): void {
    this.statusMessage ||= STATUS_CODES[this.statusCode] || "unknown";
    this.#storeHead(
      `HTTP/1.1 ${this.statusCode} ${this.statusMessage}\r\n`,
      undefined,
      contentLength,
    );
  }

  write(chunk: Buffer | string, callback?: WriteCallback): boolean;
  write(chunk: Buffer | string, encoding: BufferEncoding, callback?: WriteCallback): boolean;
  write(
    chunk: Buffer | string,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    const length = chunkLength(chunk, encoding);
    if (this.writableEnded || this.destroyed) {
      this.#refuse(callback);
      return false;
    }
    if (this.#head === undefined) this.#implicitHead(undefined);
    if (!this.#hasBody) {
      if (callback) process.nextTick(callback);
      return true;
    }
    const ret = this.#send(chunk, encoding, length, "", callback);
    if (!ret) this.#waitDrain();
    return ret;
  }

  end(callback?: () => void): this;
  end(chunk: Buffer | string, callback?: () => void): this;
  end(chunk: Buffer | string | undefined, encoding: BufferEncoding, callback?: () => void): this;
  end(
    chunk?: Buffer | string | (() => void),
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this {
    if (typeof chunk === "function") {
      callback = chunk;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    const length = chunk ? chunkLength(chunk, encoding) : 0;
    if (this.writableEnded) {
      if (chunk) this.#refuse(undefined);
      else if (callback) {
        if (!this.writableFinished) this.once("finish", callback);
        else
          callback.call(
            this,
            // @ts-expect-error node passes the error to end()'s callback here
            codedError(
              new Error("Cannot call end after a stream was finished"),
              "ERR_STREAM_ALREADY_FINISHED",
            ),
          );
      }
      return this;
    }
    if (this.#head === undefined) this.#implicitHead(length);
    this.writableEnded = true;
    if (this.destroyed) return this;
    if (callback) this.once("finish", callback);
    const tail = this.#hasBody && this.#chunked ? `0\r\n${this.#trailer}\r\n` : "";
    const socket = this.socket as ResponseSocket;
    if (socket[ending] === undefined) {
      socket[ending] = this;
      socket[onLastWrite] ??= lastWriteDone.bind(undefined, socket);
      this.#send(
        this.#hasBody && chunk ? chunk : undefined,
        encoding,
        length,
        tail,
        socket[onLastWrite],
      );
    } else {
      // Only when a driver ends two responses of one connection in one go.
      this.#send(this.#hasBody && chunk ? chunk : undefined, encoding, length, tail, (error) =>
        this.lastWriteDone(error),
      );
    }
    return this;
  }

  /**
   * Hands the head (if it has not gone yet), a chunk in the body's framing and `tail` to the
   * socket, in one write where the pieces can be joined and in one corked batch otherwise.
   */
  #send(
    chunk: Buffer | string | undefined,
    encoding: BufferEncoding | undefined,
    length: number,
    tail: string,
    callback: WriteCallback | undefined,
  ): boolean {
    const socket = this.socket;
    let head = "";
    if (!this.#headSent) {
      head = this.#head as string;
      this.#headSent = true;
    }
    if (socket.destroyed) return false;
    // node frames a chunk when the string (or Buffer) is not empty, even if it encodes to no
    // bytes (hex "a", base64 "A"): a "0" chunk-size line, which ends the body early.
    const chunked = this.#chunked && chunk !== undefined && chunk.length !== 0;
    if (chunk === undefined || (length === 0 && !chunked)) {
      // Nothing of the body: the head and the tail. node joins the head with an empty string
      // chunk and writes both in the chunk's encoding, as with any string chunk.
      if (typeof chunk === "string" && (encoding === undefined || encoding === "utf8"))
        return socket.write(head + tail, "utf8", callback);
      return socket.write(head + tail, "latin1", callback);
    }
    if (typeof chunk === "string") {
      // node joins exactly these (not "utf-8" or "binary").
      const utf8 = encoding === undefined || encoding === "utf8";
      if (utf8 || encoding === "latin1") {
        // node joins the head with a string chunk and writes it in the chunk's encoding (but
        // writes the chunk-size line, and the head before it, in latin1).
        if (!chunked) {
          if (!tail) return socket.write(head + chunk, encoding ?? "utf8", callback);
          if (!utf8 || !this.#headLatin1) {
            return socket.write(head + chunk + tail, encoding ?? "utf8", callback);
          }
        } else if (!utf8 || !this.#headLatin1) {
          return socket.write(
            `${head}${length.toString(16)}\r\n${chunk}\r\n${tail}`,
            encoding ?? "utf8",
            callback,
          );
        }
      }
    } else if (length <= JOIN_LIMIT) {
      const body = chunk.toString("latin1", 0, length);
      return socket.write(
        chunked ? `${head}${length.toString(16)}\r\n${body}\r\n${tail}` : head + body + tail,
        "latin1",
        callback,
      );
    }
    // The pieces in their own encodings, in one batch.
    socket.cork();
    if (chunked) {
      socket.write(`${head}${length.toString(16)}\r\n`, "latin1");
      socket.write(chunk, encoding as BufferEncoding);
      tail = `\r\n${tail}`;
    } else if (typeof chunk === "string" && (encoding === undefined || encoding === "utf8")) {
      socket.write(head + chunk, "utf8");
    } else {
      if (head) socket.write(head, "latin1");
      socket.write(chunk, encoding as BufferEncoding);
    }
    const ret = tail
      ? socket.write(tail, "latin1", callback)
      : socket.write("", "latin1", callback);
    socket.uncork();
    return ret;
  }

  #refuse(callback: WriteCallback | undefined): void {
    if (this.destroyed) {
      if (callback)
        process.nextTick(
          callback,
          codedError(
            new Error("Cannot call write after a stream was destroyed"),
            "ERR_STREAM_DESTROYED",
          ),
        );
      return;
    }
    process.nextTick(
      emitError,
      this,
      codedError(new Error("write after end"), "ERR_STREAM_WRITE_AFTER_END"),
      callback,
    );
  }

  #waitDrain(): void {
    const socket = this.socket as ResponseSocket;
    if (socket[drainTarget] === this) return;
    if (socket[drainTarget] === undefined) socket.once("drain", onSocketDrain);
    socket[drainTarget] = this;
  }

  /** The last write's callback: the whole response is with the socket. */
  lastWriteDone(error?: Error | null): void {
    if (error || this.closed) return;
    this.writableFinished = true;
    this.#options.onFinished(!this.#last);
    this.emit("finish");
    this.#close();
  }

  /** The driver's word that the socket closed. */
  socketClosed(): void {
    this.#close();
  }

  #close(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    this.emit("close");
  }

  addTrailers(headers: OutgoingHttpHeaders | readonly [string, string][] | string[]): void {
    let trailer = "";
    if (Array.isArray(headers)) {
      if (headers.length && Array.isArray(headers[0])) {
        for (const [name, value] of headers as unknown as [string, string][])
          trailer += trailerField(name, value);
      } else {
        const flat = headers as string[];
        if (flat.length % 2 !== 0) throw invalidArgValue("headers", headers);
        for (let i = 0; i < flat.length; i += 2) trailer += trailerField(flat[i], flat[i + 1]);
      }
    } else {
      const record = headers as OutgoingHttpHeaders;
      for (const name of Object.keys(record)) trailer += trailerField(name, record[name]);
    }
    this.#trailer = trailer;
  }

  writeContinue(): void {
    this.#writeInformation("HTTP/1.1 100 Continue\r\n\r\n");
  }

  writeEarlyHints(hints: { link: string | string[] } & Record<string, unknown>): void {
    if (hints === null || typeof hints !== "object" || Array.isArray(hints))
      throw codedError(
        new TypeError('The "hints" argument must be of type object'),
        "ERR_INVALID_ARG_TYPE",
      );
    if (hints.link === null || hints.link === undefined) return;
    const link = linkValue(hints.link);
    if (link.length === 0) return;
    if (INVALID_VALUE_CHAR.test(link))
      throw codedError(
        new TypeError('Invalid character in header content ["Link"]'),
        "ERR_INVALID_CHAR",
      );
    let head = `HTTP/1.1 103 Early Hints\r\nLink: ${link}\r\n`;
    for (const name of Object.keys(hints)) {
      if (name === "link") continue;
      const value = hints[name];
      if (!TOKEN.test(name)) invalidHeader(name, value, "Header");
      validateHeaderValue(name, value as string);
      head += `${name}: ${value}\r\n`;
    }
    this.#writeInformation(`${head}\r\n`);
  }

  #writeInformation(head: string): void {
    if (this.#head !== undefined)
      throw codedError(
        new Error("Cannot write headers after they are sent to the client"),
        "ERR_HTTP_HEADERS_SENT",
      );
    if (!this.socket.destroyed) this.socket.write(head, "latin1");
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.socket.destroy(error);
    return this;
  }
}

function trailerField(name: unknown, value: unknown): string {
  if (typeof name !== "string" || !name || !TOKEN.test(name)) invalidHeader(name, value, "Trailer");
  if (INVALID_VALUE_CHAR.test(value as string)) invalidHeader(name, value, "Trailer");
  return `${name}: ${value}\r\n`;
}

function linkValue(link: unknown): string {
  if (typeof link === "string") {
    if (!LINK_VALUE.test(link)) throw invalidArgValue("hints", link);
    return link;
  }
  if (Array.isArray(link)) {
    for (const one of link)
      if (typeof one !== "string" || !LINK_VALUE.test(one)) throw invalidArgValue("hints", link);
    return link.join(", ");
  }
  throw invalidArgValue("hints", link);
}

function chunkLength(chunk: Buffer | string, encoding: BufferEncoding | undefined): number {
  if (typeof chunk === "string") return Buffer.byteLength(chunk, encoding);
  if (chunk instanceof Uint8Array) return chunk.length;
  if (chunk === null)
    throw codedError(
      new TypeError("May not write null values to stream"),
      "ERR_STREAM_NULL_VALUES",
    );
  throw codedError(
    new TypeError(
      'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
    ),
    "ERR_INVALID_ARG_TYPE",
  );
}
