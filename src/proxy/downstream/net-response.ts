// DRAFT (lead's stand-in until the helper's version lands; not committed)
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { http } from "../../runtime/builtins.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream.ts";

let dateCache = "";
let dateSecond = 0;
function utcDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

export interface NetResponseOptions {
  keepAlive: boolean;
  http10: boolean;
  keepAliveTimeoutMs: number;
  onFinished: (keepAlive: boolean) => void;
}

export class NetResponse extends EventEmitter implements DownstreamResponse {
  readonly req: DownstreamRequest;
  readonly socket: Socket | null;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  shouldKeepAlive: boolean;
  statusCode = 200;
  readonly #options: NetResponseOptions;
  #head = "";
  #hasBody = true;
  #chunked = false;
  #trailers = "";
  #closeEmitted = false;
  #drainAwaited = false;

  constructor(socket: Socket, req: DownstreamRequest, options: NetResponseOptions) {
    super();
    this.socket = socket;
    this.req = req;
    this.#options = options;
    this.shouldKeepAlive = options.keepAlive;
    if (req.method === "HEAD") this.#hasBody = false;
  }

  writeHead(status: number, message?: unknown, headers?: unknown): this {
    if (typeof message !== "string") {
      headers = message;
      message = undefined;
    }
    this.statusCode = status;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.#hasBody = false;
    let head = `HTTP/1.1 ${status} ${(message as string | undefined) || http.STATUS_CODES[status] || "unknown"}\r\n`;
    let contentLength = false;
    let te = false;
    let connection = false;
    let date = false;
    const add = (name: string, value: unknown) => {
      const v = String(value);
      if (/[^\t\x20-\x7e\x80-\xff]/.test(v))
        throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), {
          code: "ERR_INVALID_CHAR",
        });
      head += `${name}: ${v}\r\n`;
      const lower = name.toLowerCase();
      if (lower === "content-length") contentLength = true;
      else if (lower === "transfer-encoding") {
        te = true;
        if (/chunked/i.test(v)) this.#chunked = true;
      } else if (lower === "connection") {
        connection = true;
        if (/(?:^|\W)close(?:$|\W)/i.test(v)) this.shouldKeepAlive = false;
      } else if (lower === "date") date = true;
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i], headers[i + 1]);
    } else if (headers) {
      for (const name in headers as Record<string, unknown>) {
        const value = (headers as Record<string, unknown>)[name];
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) add(name, v);
        else add(name, value);
      }
    }
    if (!date) head += `Date: ${utcDate()}\r\n`;
    const useChunked = !this.#options.http10;
    if (!contentLength && !te && this.#hasBody) {
      if (useChunked) {
        this.#chunked = true;
        head += "Transfer-Encoding: chunked\r\n";
      } else this.shouldKeepAlive = false;
    }
    if (!connection) {
      if (this.shouldKeepAlive) {
        head += "Connection: keep-alive\r\n";
        if (this.#options.keepAliveTimeoutMs > 0)
          head += `Keep-Alive: timeout=${Math.floor(this.#options.keepAliveTimeoutMs / 1000)}\r\n`;
      } else head += "Connection: close\r\n";
    }
    this.#head = `${head}\r\n`;
    return this;
  }

  write(chunk: Buffer | string, encoding?: unknown, callback?: unknown): boolean {
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) return false;
    if (!this.#head) this.writeHead(this.statusCode);
    const socket = this.socket!;
    let head = "";
    if (!this.headersSent) {
      this.headersSent = true;
      head = this.#head;
    }
    if (!this.#hasBody || chunk.length === 0) {
      if (head) return socket.write(head, "latin1", callback as () => void);
      if (callback) process.nextTick(callback as () => void);
      return true;
    }
    let ok: boolean;
    socket.cork();
    if (this.#chunked) {
      const length =
        typeof chunk === "string"
          ? Buffer.byteLength(chunk, encoding as BufferEncoding)
          : chunk.length;
      socket.write(`${head}${length.toString(16)}\r\n`, "latin1");
      socket.write(chunk, encoding as BufferEncoding);
      ok = socket.write("\r\n", "latin1", callback as () => void);
    } else {
      if (head) socket.write(head, "latin1");
      ok = socket.write(chunk, encoding as BufferEncoding, callback as () => void);
    }
    socket.uncork();
    if (!ok && !this.#drainAwaited) {
      this.#drainAwaited = true;
      socket.once("drain", () => {
        this.#drainAwaited = false;
        this.emit("drain");
      });
    }
    return ok;
  }

  end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    if (typeof chunk === "function") {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) return this;
    if (!this.#head) this.writeHead(this.statusCode);
    const socket = this.socket!;
    const finish = () => this.#finish(callback as (() => void) | undefined);
    if (!this.headersSent && !this.#chunked && (chunk === undefined || typeof chunk === "string")) {
      this.headersSent = true;
      this.writableEnded = true;
      const body = this.#hasBody && chunk !== undefined ? (chunk as string) : "";
      socket.write(this.#head + body, (encoding as BufferEncoding) ?? "latin1", finish);
      return this;
    }
    if (chunk !== undefined && this.#hasBody)
      this.write(chunk as Buffer, encoding as BufferEncoding);
    this.writableEnded = true;
    let tail = "";
    if (!this.headersSent) {
      this.headersSent = true;
      tail = this.#head;
    }
    if (this.#chunked && this.#hasBody) tail += `0\r\n${this.#trailers}\r\n`;
    socket.write(tail, "latin1", finish);
    return this;
  }

  addTrailers(headers: unknown): void {
    if (Array.isArray(headers) && Array.isArray(headers[0])) {
      for (const [n, v] of headers as [string, string][]) this.#trailers += `${n}: ${v}\r\n`;
    } else if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2)
        this.#trailers += `${headers[i]}: ${headers[i + 1]}\r\n`;
    } else
      for (const name in headers as Record<string, string>)
        this.#trailers += `${name}: ${(headers as Record<string, string>)[name]}\r\n`;
  }

  writeContinue(): void {
    this.socket!.write("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
  }

  writeEarlyHints(hints: { link: string | string[] }): void {
    const link = Array.isArray(hints.link) ? hints.link.join(", ") : hints.link;
    this.socket!.write(`HTTP/1.1 103 Early Hints\r\nLink: ${link}\r\n\r\n`, "latin1");
  }

  destroy(): this {
    this.socket!.destroy();
    return this;
  }

  socketClosed(): void {
    if (this.writableFinished || this.#closeEmitted) return;
    this.destroyed = true;
    this.#closeEmitted = true;
    this.emit("close");
  }

  #finish(callback: (() => void) | undefined): void {
    if (this.#closeEmitted) return;
    this.writableFinished = true;
    callback?.();
    this.emit("finish");
    this.#closeEmitted = true;
    this.emit("close");
    this.#options.onFinished(this.shouldKeepAlive);
  }
}
