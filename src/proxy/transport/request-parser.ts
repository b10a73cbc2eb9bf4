import { copyOf } from "./copy-of.ts";
import { parseChunkSizeLine, parseFieldLine } from "./field-syntax.ts";
import {
  parseRequestHead,
  type RequestErrorCode,
  type RequestHead,
  type RequestHeadOptions,
  refusal,
} from "./request-head.ts";

export type { RequestErrorCode, RequestHead } from "./request-head.ts";

/**
 * An incremental HTTP/1.1 request parser for the downstream side (RFC 9112), the counterpart of
 * ResponseParser. Fed buffers split anywhere, it reports each request's head, body and end, one
 * request at a time: after a request ends it parses nothing more until `resume()`, so the
 * caller answers pipelined requests in order. Smuggling safety comes first: a message is framed
 * by exactly one rule, a bare CR or LF, obs-fold or any doubt about the framing is refused, and
 * after a refusal nothing more is parsed. Differentially tested against llhttp.
 */
export interface RequestHandlers {
  /** The request line and headers. For an upgrade (or CONNECT) head, onUpgrade follows. */
  onHead(head: RequestHead): void;
  /** A part of the body: a view valid only during the call (copy to keep). */
  onBody(chunk: Buffer): void;
  /** The request is complete (`rawTrailers` for a chunked body, else empty). */
  onEnd(rawTrailers: string[]): void;
  /**
   * After an upgrade or CONNECT head: the bytes that followed it, which are not HTTP (may be
   * empty; a view valid only during the call). The parser reads nothing more.
   */
  onUpgrade(rest: Buffer): void;
  /** The request is malformed: answer `status` and close the connection. */
  onError(code: RequestErrorCode, status: number, message: string): void;
}

export interface RequestParserOptions {
  /** node's `maxHeaderSize` semantics (see parseRequestHead). Default 16384, node's default. */
  maxHeaderBytes?: number;
  /** HTTP/1.1 without Host is refused (node's `requireHostHeader`). Default true. */
  requireHost?: boolean;
}

const S = {
  head: 0,
  length: 1,
  chunkSize: 2,
  chunkData: 3,
  chunkCrlf: 4,
  trailers: 5,
  /** A request ended; waiting for resume(). */
  paused: 6,
  /** The last request closes the connection: only CR and LF may follow. */
  closed: 7,
  upgraded: 8,
  failed: 9,
} as const;
type State = (typeof S)[keyof typeof S];

/** A chunk-size line longer than this is refused (llhttp allows 16 KiB of extensions). */
const maxChunkLineBytes = 4096;

/** A field line's bytes as node:http counts them: the name, and the value from its first non-OWS byte. */
function countedBytes(line: string): number {
  const colon = line.indexOf(":");
  let from = colon + 1;
  while (line.charCodeAt(from) === 32 || line.charCodeAt(from) === 9) from++;
  return colon + (line.length - from);
}

export class RequestParser {
  readonly #handlers: RequestHandlers;
  readonly #options: RequestHeadOptions;
  /** A raw head longer than this is refused even before its end (see docs/proxy.md). */
  readonly #maxRawHead: number;
  #state: State = S.head;
  #pending: Buffer | undefined;
  /** Bytes of a pending head already scanned for its end (not scanned again). */
  #searched = 0;
  #remaining = 0;
  #keepAlive = true;
  #trailers: string[] = [];
  #trailerBytes = 0;

  constructor(handlers: RequestHandlers, options: RequestParserOptions = {}) {
    const { maxHeaderBytes = 16384, requireHost = true } = options;
    this.#handlers = handlers;
    this.#options = { maxHeaderBytes, requireHost };
    this.#maxRawHead = 2 * maxHeaderBytes + 1024;
  }

  /** Whether the parser waits for resume() after a complete request. */
  get paused(): boolean {
    return this.#state === S.paused;
  }

  /** Whether part of a request has arrived and not ended yet. */
  get inMessage(): boolean {
    return (
      (this.#state === S.head && this.#pending !== undefined) ||
      (this.#state >= S.length && this.#state <= S.trailers)
    );
  }

  /**
   * Parses the next bytes of the connection. What the parser keeps across calls (a partial
   * line, the bytes after a request while paused) it copies: `chunk` may be reused once feed
   * returns. Bytes fed while paused are kept, unbounded, until resume(): the caller stops
   * reading the socket while it answers a request.
   */
  feed(chunk: Buffer): void {
    if (this.#state === S.failed || this.#state === S.upgraded) return;
    if (this.#state === S.paused) {
      this.#pending = this.#pending ? Buffer.concat([this.#pending, chunk]) : copyOf(chunk);
      return;
    }
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    this.#parse(data);
  }

  /**
   * Called from onHead: this connection is handed to another parser. Nothing more is parsed;
   * onUpgrade follows at once with the bytes after the head (the body, pipelined requests).
   */
  detach(): void {
    this.#state = S.upgraded;
  }

  /** Parses on after a request's end: the next pipelined request, if its bytes are here. */
  resume(): void {
    if (this.#state !== S.paused) return;
    this.#state = this.#keepAlive ? S.head : S.closed;
    const data = this.#pending;
    this.#pending = undefined;
    this.#searched = 0;
    if (data) this.#parse(data);
  }

  #parse(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      switch (this.#state) {
        case S.head: {
          // CR and LF before a request line are skipped, as llhttp does (RFC 9112 §2.2).
          if (this.#searched === 0) while (data[offset] === 13 || data[offset] === 10) offset += 1;
          if (offset === data.length) return;
          const end = this.#headEnd(data, offset);
          if (end === -2) return;
          if (end === -1) {
            if (data.length - offset > this.#maxRawHead) {
              this.#fail("HEADERS_TOO_LARGE", `Request head is over ${this.#maxRawHead} bytes`);
              return;
            }
            this.#pending = copyOf(data.subarray(offset));
            this.#searched = this.#pending.length;
            return;
          }
          this.#searched = 0;
          const text = data.toString("latin1", offset, end);
          offset = end + 4;
          this.#head(text);
          if ((this.#state as State) === S.upgraded) {
            this.#handlers.onUpgrade(data.subarray(offset));
            return;
          }
          break;
        }
        case S.length:
        case S.chunkData: {
          const n = Math.min(this.#remaining, data.length - offset);
          this.#remaining -= n;
          const part = data.subarray(offset, offset + n);
          offset += n;
          const last = this.#remaining === 0 && this.#state === S.length;
          if (this.#remaining === 0 && this.#state === S.chunkData) this.#state = S.chunkCrlf;
          this.#handlers.onBody(part);
          if (last && this.#state === S.length) this.#end();
          break;
        }
        case S.chunkSize:
        case S.chunkCrlf:
        case S.trailers: {
          const eol = this.#lineEnd(data, offset);
          if (eol === -2) return;
          if (eol === -1) {
            const limit = this.#state === S.trailers ? this.#maxRawHead : maxChunkLineBytes;
            if (data.length - offset > limit) {
              if (this.#state === S.trailers)
                this.#fail("HEADERS_TOO_LARGE", "Trailer section too large");
              else this.#fail("INVALID_CHUNK", "Chunk size line too long");
              return;
            }
            this.#pending = copyOf(data.subarray(offset));
            return;
          }
          const line = data.toString("latin1", offset, eol);
          offset = eol + 2;
          this.#line(line);
          break;
        }
        case S.closed: {
          while (offset < data.length && (data[offset] === 13 || data[offset] === 10)) offset += 1;
          if (offset < data.length)
            this.#fail("DATA_AFTER_CLOSE", "Bytes after a request that closes the connection");
          return;
        }
        default:
          return;
      }
      // Handlers may have moved the state: read it afresh.
      const state = this.#state as State;
      if (state === S.paused) {
        // The next request waits for resume(), kept as a copy (data may be a reused buffer).
        if (offset < data.length) this.#pending = copyOf(data.subarray(offset));
        return;
      }
      if (state === S.failed) return;
    }
  }

  /** The request is complete: nothing more is parsed until resume(). */
  #end(): void {
    this.#state = S.paused;
    const trailers = this.#trailers;
    this.#trailers = [];
    this.#handlers.onEnd(trailers);
  }

  /**
   * Where the head's blank line starts (its CRLF CRLF), -1 when not here yet, -2 after a
   * refusal. The scan resumes where the last one stopped; a CR not followed by LF, or an LF
   * not preceded by CR, is refused as soon as it is seen.
   */
  #headEnd(data: Buffer, offset: number): number {
    // A pending head starts at 0; its last bytes are scanned again (a CR may end it).
    const from = offset === 0 ? Math.max(0, this.#searched - 3) : offset;
    for (let i = from; i < data.length; i++) {
      const byte = data[i];
      if (byte === 10) {
        if (i === offset || data[i - 1] !== 13) return this.#bare();
        if (i - offset >= 3 && data[i - 2] === 10 && data[i - 3] === 13) return i - 3;
      } else if (byte === 13 && i + 1 < data.length && data[i + 1] !== 10) return this.#bare();
    }
    return -1;
  }

  /** The CRLF that ends a chunk or trailer line, as #headEnd checks it. */
  #lineEnd(data: Buffer, offset: number): number {
    for (let i = offset; i < data.length; i++) {
      const byte = data[i];
      if (byte === 10) return data[i - 1] === 13 && i > offset ? i - 1 : this.#bare();
      if (byte === 13 && i + 1 < data.length && data[i + 1] !== 10) return this.#bare();
    }
    return -1;
  }

  #bare(): -2 {
    this.#fail("BARE_CR_OR_LF", "A CR or LF that is not part of a CRLF");
    return -2;
  }

  /** A complete head: moves to its body's state, or ends the request. */
  #head(text: string): void {
    const head = parseRequestHead(text, this.#options);
    if ("code" in head) {
      this.#fail(head.code, head.message);
      return;
    }
    this.#keepAlive = head.keepAlive;
    if (head.upgrade) this.#state = S.upgraded;
    else if (head.framing.kind === "chunked") {
      this.#state = S.chunkSize;
      this.#trailerBytes = 0;
    } else if (head.framing.kind === "length" && head.framing.length > 0) {
      this.#remaining = head.framing.length;
      this.#state = S.length;
    }
    this.#handlers.onHead(head);
    if (this.#state === S.head) this.#end();
  }

  /** A chunk-size, chunk-CRLF or trailer line. */
  #line(line: string): void {
    if (this.#state === S.chunkCrlf) {
      if (line !== "") this.#fail("INVALID_CHUNK", "Chunk data longer than its size");
      else this.#state = S.chunkSize;
      return;
    }
    if (this.#state === S.chunkSize) {
      const size = parseChunkSizeLine(line);
      if (size === undefined)
        this.#fail("INVALID_CHUNK", `Invalid chunk size line ${JSON.stringify(line)}`);
      else {
        this.#remaining = size;
        this.#state = size === 0 ? S.trailers : S.chunkData;
      }
      return;
    }
    if (line === "") {
      this.#end();
      return;
    }
    const first = line.charCodeAt(0);
    const field = first === 32 || first === 9 ? undefined : parseFieldLine(line);
    // A trailer cannot reframe the message it ends.
    const lower = field?.[0].toLowerCase();
    this.#trailerBytes += field ? countedBytes(line) : 0;
    if (first === 32 || first === 9)
      this.#fail("OBS_FOLD", "Trailer line folded onto the previous one (obs-fold)");
    else if (!field) this.#fail("INVALID_HEADER_TOKEN", "Invalid trailer line");
    else if (this.#trailerBytes >= this.#options.maxHeaderBytes)
      this.#fail("HEADERS_TOO_LARGE", "Trailer section too large");
    else if (lower === "content-length")
      this.#fail("INVALID_CONTENT_LENGTH", "Content-Length in the trailer section");
    else if (lower === "transfer-encoding")
      this.#fail("INVALID_TRANSFER_ENCODING", "Transfer-Encoding in the trailer section");
    else this.#trailers.push(field[0], field[1]);
  }

  #fail(code: RequestErrorCode, message: string): void {
    if (this.#state === S.failed) return;
    this.#state = S.failed;
    this.#pending = undefined;
    const { status } = refusal(code, message);
    this.#handlers.onError(code, status, message);
  }
}
