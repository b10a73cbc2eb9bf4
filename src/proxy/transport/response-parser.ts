/**
 * An incremental HTTP/1.1 response parser for the upstream side (RFC 9112): status line and
 * headers, then a body framed by Content-Length, chunked coding (with trailers) or the
 * connection's close. Hand-written because the hot path measurably beats a general client.
 */
export interface ResponseHandlers {
  /** An interim 1xx response (e.g. 103 Early Hints) before the final one. */
  onInfo?(status: number, rawHeaders: string[]): void;
  /** Status line and headers of the final (non-1xx) response. */
  onHead(status: number, message: string, rawHeaders: string[]): void;
  onBody(chunk: Buffer): void;
  /** The response is complete; `keepAlive` when the connection may carry another request. */
  onEnd(rawTrailers: string[], keepAlive: boolean): void;
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
  done: 7,
  failed: 8,
} as const;
type State = (typeof S)[keyof typeof S];

const maxHeadBytes = 64 * 1024;
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const badValuePattern = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export class ResponseParser {
  readonly #handlers: ResponseHandlers;
  #state: State = S.done;
  #noBody = false;
  #pending: Buffer | undefined;
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
    this.#trailers = [];
    this.#keepAlive = true;
  }

  get done(): boolean {
    return this.#state === S.done;
  }

  /** Whether any byte of the current response has arrived. */
  get started(): boolean {
    return this.#state !== S.head || this.#pending !== undefined;
  }

  feed(chunk: Buffer): void {
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    let offset = 0;
    while (offset < data.length) {
      switch (this.#state) {
        case S.head: {
          const end = data.indexOf("\r\n\r\n", offset, "latin1");
          if (end === -1) {
            if (data.length - offset > maxHeadBytes) {
              this.#fail("response head too large");
              return;
            }
            this.#pending = data.subarray(offset);
            return;
          }
          const next = this.#head(data.toString("latin1", offset, end));
          offset = end + 4;
          if (next === undefined) return;
          // A 1xx response: wait for the final one.
          break;
        }
        case S.length: {
          const n = Math.min(this.#remaining, data.length - offset);
          this.#remaining -= n;
          const part = data.subarray(offset, offset + n);
          offset += n;
          this.#handlers.onBody(part);
          if (this.#remaining === 0) this.#finish();
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
            this.#pending = data.subarray(offset);
            return;
          }
          const line = data.toString("latin1", offset, eol);
          offset = eol + 2;
          if (this.#state === S.chunkCrlf) {
            if (line !== "") {
              this.#fail("missing CRLF after chunk data");
              return;
            }
            this.#state = S.chunkSize;
          } else if (this.#state === S.chunkSize) {
            const sizeText = line.split(";", 1)[0]!.trim();
            if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) {
              this.#fail("invalid chunk size");
              return;
            }
            this.#remaining = Number.parseInt(sizeText, 16);
            this.#state = this.#remaining === 0 ? S.trailers : S.chunkData;
          } else if (line === "") this.#finish();
          else {
            const colon = line.indexOf(":");
            if (colon <= 0) {
              this.#fail("invalid trailer line");
              return;
            }
            this.#trailers.push(line.slice(0, colon), line.slice(colon + 1).trim());
          }
          break;
        }
        case S.chunkData: {
          const n = Math.min(this.#remaining, data.length - offset);
          this.#remaining -= n;
          const part = data.subarray(offset, offset + n);
          offset += n;
          this.#handlers.onBody(part);
          if (this.#remaining === 0) this.#state = S.chunkCrlf;
          break;
        }
        case S.untilClose:
          this.#handlers.onBody(offset === 0 ? data : data.subarray(offset));
          return;
        case S.done: {
          this.#fail("unexpected bytes after the response");
          return;
        }
        case S.failed:
          return;
      }
    }
  }

  /** The connection ended: completes a close-delimited body, else it is an error. */
  eof(): void {
    if (this.#state === S.untilClose) {
      this.#keepAlive = false;
      this.#finish();
    } else if (this.#state !== S.done && this.#state !== S.failed)
      this.#fail("connection closed before the response was complete");
  }

  /** Parses a head; returns undefined when the parser stopped (error), else the new state. */
  #head(text: string): State | undefined {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/.exec(lines[0]!);
    if (!m) {
      this.#fail("invalid status line");
      return undefined;
    }
    const http10 = m[1] === "0";
    const status = Number(m[2]);
    const raw: string[] = [];
    let length: number | undefined;
    let chunked = false;
    let connection = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      const name = colon > 0 ? line.slice(0, colon) : "";
      if (!tokenPattern.test(name)) {
        this.#fail("invalid header line");
        return undefined;
      }
      const value = line.slice(colon + 1).trim();
      if (badValuePattern.test(value)) {
        this.#fail("invalid header value");
        return undefined;
      }
      raw.push(name, value);
      const lower =
        name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : "";
      if (lower === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) {
          this.#fail("invalid Content-Length");
          return undefined;
        }
        length = Number(value);
      } else if (lower === "transfer-encoding") {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        if (!chunked) {
          this.#fail("unsupported Transfer-Encoding");
          return undefined;
        }
      } else if (lower === "connection") connection += `${value.toLowerCase()},`;
    }
    if (status < 200) {
      this.#handlers.onInfo?.(status, raw);
      return S.head;
    }
    this.#keepAlive = http10 ? connection.includes("keep-alive") : !connection.includes("close");
    this.#handlers.onHead(status, m[3] ?? "", raw);
    if (this.#state === S.failed) return undefined;
    if (this.#noBody || status === 204 || status === 304) {
      this.#finish();
      return S.done;
    }
    if (chunked) this.#state = S.chunkSize;
    else if (length !== undefined) {
      this.#remaining = length;
      this.#state = S.length;
      if (length === 0) this.#finish();
    } else {
      this.#state = S.untilClose;
      this.#keepAlive = false;
    }
    return this.#state;
  }

  #finish(): void {
    this.#state = S.done;
    this.#handlers.onEnd(this.#trailers, this.#keepAlive);
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
