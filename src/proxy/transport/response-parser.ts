import { copyOf } from "./copy-of.ts";
import { isChunkedOnly, parseChunkSizeLine, parseFieldLine } from "./field-syntax.ts";
import { parseResponseHead } from "./response-head.ts";

/**
 * An incremental HTTP/1.1 response parser for the upstream side (RFC 9112): status line and
 * headers, then a body framed by exactly one rule — Content-Length, chunked coding (with
 * trailers) or the connection's close. Hand-written because the hot path measurably beats a
 * general client. Nothing after a complete response is read as part of it or of a later one:
 * such bytes make the connection not reusable.
 */
export interface ResponseHandlers {
  /** An interim 1xx response (e.g. 103 Early Hints) before the final one. */
  onInfo?(status: number, rawHeaders: string[]): void;
  /**
   * Status line and headers of the final (non-1xx) response. `contentLength` is the number of
   * body bytes that will follow, exactly (or, for HEAD and 304, the length the upstream
   * declared for the representation); undefined for chunked, close-delimited and 204 bodies.
   */
  onHead(status: number, message: string, rawHeaders: string[], contentLength?: number): void;
  /** A part of the body: a view of the fed chunk, valid only during the call (copy to keep). */
  onBody(chunk: Buffer): void;
  /** The response is complete; `keepAlive` when the connection may carry another request. */
  onEnd(rawTrailers: string[], keepAlive: boolean): void;
  /** The response is malformed (a protocol error); the connection must be closed. */
  onError(message: string): void;
}

const S = {
  head: 0,
  length: 1,
  chunkSize: 2,
  chunkData: 3,
  chunkCrlf: 4,
  trailers: 5,
  untilClose: 6,
  /** The body is complete, onEnd not called yet. */
  complete: 7,
  done: 8,
  failed: 9,
} as const;
type State = (typeof S)[keyof typeof S];

const maxHeadBytes = 64 * 1024;

/**
 * Where the first CRLF CRLF at or after `from` starts, or -1. A loop over the bytes: heads are
 * short, and Buffer#indexOf with a string needle costs more than the scan (~1% of the proxy's
 * CPU at 13 B).
 */
function headEnd(data: Buffer, from: number): number {
  for (let i = from + 3; i < data.length; i++)
    if (data[i] === 10 && data[i - 1] === 13 && data[i - 2] === 10 && data[i - 3] === 13)
      return i - 3;
  return -1;
}

export class ResponseParser {
  readonly #handlers: ResponseHandlers;
  #state: State = S.done;
  #noBody = false;
  #pending: Buffer | undefined;
  /** Bytes of a pending head already searched for its end (not searched again). */
  #searched = 0;
  #remaining = 0;
  #keepAlive = true;
  #trailers: string[] = [];

  constructor(handlers: ResponseHandlers) {
    this.#handlers = handlers;
  }

  /** Expects a new response; `noBody` for a HEAD request. */
  start(noBody: boolean): void {
    this.#state = S.head;
    this.#noBody = noBody;
    this.#pending = undefined;
    this.#searched = 0;
    this.#trailers = [];
    this.#keepAlive = true;
  }

  get done(): boolean {
    return this.#state === S.done;
  }

  /**
   * True during the onBody call that completes a Content-Length body (onEnd follows at once,
   * in the same feed).
   */
  get lastChunk(): boolean {
    return this.#state === S.length && this.#remaining === 0;
  }

  /** Whether any byte of the current response has arrived. */
  get started(): boolean {
    return this.#state !== S.head || this.#pending !== undefined;
  }

  /**
   * Parses the next bytes of the connection. `chunk` may be a read buffer the caller reuses once
   * feed returns: what the parser keeps across calls (a partial head or line) it copies, and
   * the chunk onBody gets is a view valid only during that call.
   */
  feed(chunk: Buffer): void {
    if (this.#state === S.done) {
      this.#fail("unexpected bytes after the response");
      return;
    }
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    let offset = 0;
    while (offset < data.length) {
      switch (this.#state) {
        case S.head: {
          // CR and LF before a status line are skipped, as llhttp does (e.g. a CRLF after a 1xx).
          while (data[offset] === 13 || data[offset] === 10) offset += 1;
          if (offset === data.length) return;
          // A pending head starts at offset 0 (its leading CR and LF were skipped before).
          const end = headEnd(data, offset === 0 ? Math.max(0, this.#searched - 3) : offset);
          if (end === -1) {
            if (data.length - offset > maxHeadBytes) {
              this.#fail("response head too large");
              return;
            }
            // A copy: `chunk` may be a read buffer its caller reuses (see feed).
            this.#pending = copyOf(data.subarray(offset));
            this.#searched = this.#pending.length;
            return;
          }
          this.#searched = 0;
          const text = data.toString("latin1", offset, end);
          offset = end + 4;
          this.#head(text);
          break;
        }
        case S.length: {
          const n = Math.min(this.#remaining, data.length - offset);
          this.#remaining -= n;
          const part = data.subarray(offset, offset + n);
          offset += n;
          this.#handlers.onBody(part);
          if (this.#remaining === 0 && this.#state === S.length) this.#state = S.complete;
          break;
        }
        case S.chunkSize:
        case S.chunkCrlf:
        case S.trailers: {
          const eol = data.indexOf("\r\n", offset, "latin1");
          if (eol === -1) {
            if (data.length - offset > maxHeadBytes) {
              this.#fail("chunk line too long");
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
        case S.chunkData: {
          const n = Math.min(this.#remaining, data.length - offset);
          this.#remaining -= n;
          const part = data.subarray(offset, offset + n);
          offset += n;
          this.#handlers.onBody(part);
          if (this.#remaining === 0 && this.#state === S.chunkData) this.#state = S.chunkCrlf;
          break;
        }
        case S.untilClose:
          this.#handlers.onBody(offset === 0 ? data : data.subarray(offset));
          return;
        default:
          // complete, done or failed: nothing more is read from this buffer.
          break;
      }
      // Callbacks may have moved the state (abort()): read it afresh.
      const state = this.#state as State;
      if (state === S.complete) {
        // Bytes after a complete response belong to no request: never reuse the connection.
        this.#finish(offset < data.length);
        return;
      }
      if (state === S.failed || state === S.done) return;
    }
  }

  /** The connection ended: completes a close-delimited body, else it is an error. */
  eof(): void {
    if (this.#state === S.untilClose) {
      this.#keepAlive = false;
      this.#finish(false);
    } else if (this.#state !== S.done && this.#state !== S.failed)
      this.#fail("connection closed before the response was complete");
  }

  /** A chunk-size, chunk-CRLF or trailer line. */
  #line(line: string): void {
    if (this.#state === S.chunkCrlf) {
      if (line !== "") this.#fail("missing CRLF after chunk data");
      else this.#state = S.chunkSize;
    } else if (this.#state === S.chunkSize) {
      const size = parseChunkSizeLine(line);
      if (size === undefined) this.#fail("invalid chunk size line");
      else {
        this.#remaining = size;
        this.#state = size === 0 ? S.trailers : S.chunkData;
      }
    } else if (line === "") this.#state = S.complete;
    else {
      const field = parseFieldLine(line);
      if (!field) this.#fail("invalid trailer line");
      // A trailer cannot reframe the message it ends (llhttp refuses it as well).
      else if (field[0].length === 14 && field[0].toLowerCase() === "content-length")
        this.#fail("Content-Length in the trailer section");
      else this.#trailers.push(field[0], field[1]);
    }
  }

  /** Parses a head: a 1xx stays in S.head, a final response moves to its body's state. */
  #head(text: string): void {
    const head = parseResponseHead(text);
    if (typeof head === "string") {
      this.#fail(head);
      return;
    }
    const { status } = head;
    if (status === 101) {
      // The proxy never asks this connection to switch protocols (Upgrade has its own path).
      this.#fail("101 Switching Protocols without an Upgrade request");
      return;
    }
    const keepAlive = head.http10
      ? head.connection.includes("keep-alive")
      : !head.connection.includes("close");
    if (status < 200) {
      // An interim response that ends the connection leaves no room for the final one (llhttp).
      if (!keepAlive) this.#fail("interim response closes the connection");
      else this.#handlers.onInfo?.(status, head.raw);
      return;
    }
    this.#keepAlive = keepAlive;
    const noBody = this.#noBody || status === 204 || status === 304;
    let length: number | undefined;
    if (noBody) {
      this.#state = S.complete;
      length = status === 204 ? undefined : head.contentLength;
    } else if (head.transferEncoding.length > 0) {
      if (!isChunkedOnly(head.transferEncoding)) {
        this.#fail(`unsupported Transfer-Encoding "${head.transferEncoding.join(", ")}"`);
        return;
      }
      this.#state = S.chunkSize;
    } else if (head.contentLength !== undefined) {
      length = head.contentLength;
      this.#remaining = length;
      this.#state = length === 0 ? S.complete : S.length;
    } else {
      this.#state = S.untilClose;
      this.#keepAlive = false;
    }
    this.#handlers.onHead(status, head.message, head.raw, length);
  }

  #finish(trailing: boolean): void {
    this.#state = S.done;
    this.#handlers.onEnd(this.#trailers, this.#keepAlive && !trailing);
  }

  #fail(message: string): void {
    if (this.#state === S.failed) return;
    this.#state = S.failed;
    this.#handlers.onError(message);
  }

  /** Marks the parser failed (e.g. the consumer rejected the head); no more callbacks. */
  abort(): void {
    this.#state = S.failed;
  }
}
