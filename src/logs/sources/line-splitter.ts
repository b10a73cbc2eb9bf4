import type { SourceLine } from "../log-event.ts";

/** What to do with a line longer than maxLineBytes: cut it into pieces, or keep the head only. */
export type LongLineMode = "split" | "truncate";

export interface LineSplitterOptions {
  /** The stream id that goes into each line's position (a fingerprint, "stdout"). */
  streamId: string;
  /** The line's `source` (file path, "stdout"). */
  source: string;
  /** Byte offset in the stream of the first byte that will be pushed. Default 0. */
  offset?: number;
  /** Lines longer than this are split or truncated. Default 102400. */
  maxLineBytes?: number;
  longLines?: LongLineMode;
  now?: () => number;
  /** Called for every line cut at maxLineBytes (for the counter). */
  onLongLine?: () => void;
}

const newline = 10;

/**
 * Splits a byte stream into lines on `\n` (a trailing `\r` is kept), with the stream offset just
 * past each line's newline. Bytes without a newline yet are held until more arrive or
 * `flushPartial()` (the partial-line timeout, the end of the stream). A line longer than
 * maxLineBytes never stalls the stream: it is split into pieces, or its head is kept and the rest
 * skipped up to the next newline; either way the line is marked `truncated`.
 *
 * @example
 * const splitter = new LineSplitter({ streamId: "fp", source: "/var/log/a.log" });
 * splitter.push(Buffer.from("a\nb"), out); // out: [{ text: "a", position: { offset: 2 } }]
 */
export class LineSplitter {
  readonly streamId: string;
  readonly source: string;
  readonly #maxLineBytes: number;
  readonly #mode: LongLineMode;
  readonly #now: () => number;
  readonly #onLongLine: (() => void) | undefined;
  /** Held bytes of an unfinished line. */
  #partial: Buffer = Buffer.alloc(0);
  /** Stream offset of the first byte not yet pushed. */
  #offset: number;
  /** Truncate mode: skipping the rest of a long line up to its newline. */
  #skipping = false;

  constructor(options: LineSplitterOptions) {
    this.streamId = options.streamId;
    this.source = options.source;
    this.#offset = options.offset ?? 0;
    this.#maxLineBytes = options.maxLineBytes ?? 102_400;
    this.#mode = options.longLines ?? "split";
    this.#now = options.now ?? Date.now;
    this.#onLongLine = options.onLongLine;
    if (!(this.#maxLineBytes >= 1)) throw new RangeError("maxLineBytes must be at least 1");
  }

  /** Offset just past the last byte pushed. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes held of an unfinished line. */
  get partialBytes(): number {
    return this.#partial.length;
  }

  /** Appends the lines completed by `chunk` to `out`; returns the number appended. */
  push(chunk: Buffer, out: SourceLine[]): number {
    const before = out.length;
    const readAt = this.#now();
    let data = chunk;
    // Offset of data[0] in the stream.
    let base = this.#offset;
    if (this.#partial.length > 0) {
      base -= this.#partial.length;
      data = Buffer.concat([this.#partial, chunk]);
      this.#partial = Buffer.alloc(0);
    }
    this.#offset += chunk.length;
    let start = 0;
    const end = data.length;
    while (start < end) {
      const nl = data.indexOf(newline, start);
      if (this.#skipping) {
        if (nl === -1) return out.length - before; // rest of a truncated line: dropped
        this.#skipping = false;
        start = nl + 1;
        continue;
      }
      const lineEnd = nl === -1 ? end : nl;
      if (lineEnd - start > this.#maxLineBytes) {
        const cut = charBoundary(data, start + this.#maxLineBytes, start);
        this.#onLongLine?.();
        out.push(this.#line(data, start, cut, base + cut, readAt, true));
        if (this.#mode === "truncate") this.#skipping = true;
        start = cut;
        continue;
      }
      if (nl === -1) {
        this.#partial = Buffer.from(data.subarray(start, end));
        break;
      }
      out.push(this.#line(data, start, nl, base + nl + 1, readAt, false));
      start = nl + 1;
    }
    return out.length - before;
  }

  /** Emits the held bytes as a line (timeout or end of stream); returns whether there was one. */
  flushPartial(out: SourceLine[]): boolean {
    if (this.#partial.length === 0) return false;
    const held = this.#partial;
    this.#partial = Buffer.alloc(0);
    out.push(this.#line(held, 0, held.length, this.#offset, this.#now(), false));
    return true;
  }

  #line(
    data: Buffer,
    start: number,
    end: number,
    offset: number,
    readAt: number,
    truncated: boolean,
  ): SourceLine {
    const line: SourceLine = {
      text: data.toString("utf8", start, end),
      source: this.source,
      position: { streamId: this.streamId, offset },
      readAt,
    };
    if (truncated) line.truncated = true;
    return line;
  }
}

/** Moves `cut` back off UTF-8 continuation bytes (at most 3) so a character is not split. */
function charBoundary(data: Buffer, cut: number, min: number): number {
  let at = cut;
  for (let i = 0; i < 3 && at > min + 1 && ((data[at] ?? 0) & 0xc0) === 0x80; i++) at--;
  return at;
}
