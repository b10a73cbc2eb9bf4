import type { LogEvent } from "../../log-event.ts";
import { ByteWriter } from "./byte-writer.ts";
import { isoTime } from "./event-json.ts";
import type { EncodedBatch } from "./sink-batch.ts";

/** How a batch of events is laid out around their JSON objects (the texts must be ASCII). */
export interface JsonBodyLayout {
  /** Before the first event (`[` for a JSON array). Default "". */
  open?: string;
  /** Between two events (`,` for a JSON array). Default "\n". */
  separator?: string;
  /** After the last event (`]` for a JSON array, "\n" for JSON lines). Default "\n". */
  close?: string;
  /** The key of the RFC 3339 time. Default "timestamp". */
  timestampKey?: string;
}

/**
 * Encodes batches of events as JSON straight into one Buffer, byte for byte what
 * `Buffer.from(encodeJsonLines(events))` gives (see eventJsonText for the shape), without the
 * long concatenated string: turning that into bytes cost more than building it. The part of an
 * event from the time to the message repeats from event to event (lines read together share
 * their read time) and is copied from the previous event; so is the source.
 *
 * @example
 * new JsonBodyEncoder().encode(events); // <Buffer 7b 22 74 69 …> one JSON object per line
 */
export class JsonBodyEncoder {
  readonly #open: Buffer;
  readonly #separator: Buffer;
  readonly #close: Buffer;
  readonly #timestampKey: string;
  readonly #timeHead: string;
  /** Where `"<time key>":"<time>",["level":…,]"message":` of the last event is in the output (-1: none yet). */
  #headAt = -1;
  #headLength = 0;
  #headTime = Number.NaN;
  #headLevel: string | undefined;
  /** `,"source":<json>` of the last source seen. */
  #sourceBytes: Buffer = Buffer.alloc(0);
  #source: string | undefined;
  /** Bodies given back (see recycle), written into again instead of new memory. */
  readonly #spare: Buffer[] = [];
  /** Kept bodies given back (see release), and their bytes. */
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  static readonly #maxKeptBytes = 32 * 1024 * 1024;

  constructor({
    open = "",
    separator = "\n",
    close = "\n",
    timestampKey = "timestamp",
  }: JsonBodyLayout = {}) {
    this.#open = Buffer.from(open, "latin1");
    this.#separator = Buffer.from(separator, "latin1");
    this.#close = Buffer.from(close, "latin1");
    this.#timestampKey = timestampKey;
    this.#timeHead = `${JSON.stringify(timestampKey)}:"`;
  }

  /** The events laid out as configured, in a Buffer of its own. Throws on a value JSON cannot hold (a BigInt). */
  encode(events: readonly LogEvent[]): Buffer {
    return this.#encode(events, undefined);
  }

  /**
   * Like encode, and where each event's object lies in the body (for encodeSome and dead
   * letters). The body is for keeping (until the batch is delivered): written into reused
   * memory, then copied to a Buffer of its exact size.
   */
  encodeWithSpans(events: readonly LogEvent[]): EncodedBatch {
    const spans = new Uint32Array(events.length * 2);
    const scratch = this.#encode(events, spans);
    const body = this.#keep(scratch.length);
    scratch.copy(body);
    this.recycle(scratch);
    return { body, spans };
  }

  /**
   * Gives back the body of a batch encodeWithSpans made, once it is settled and no request reads
   * it: its memory is reused for a later batch. Freeing it is otherwise up to V8's collector,
   * which frees a promoted Buffer's memory only at its next full collection — long enough for
   * tens of MB of delivered bodies to pile up.
   */
  release(batch: EncodedBatch): void {
    const whole = batch.body.buffer;
    if (
      batch.body.byteOffset !== 0 ||
      this.#keptBytes + whole.byteLength > JsonBodyEncoder.#maxKeptBytes
    )
      return;
    this.#keptBytes += whole.byteLength;
    this.#kept.push(Buffer.from(whole, 0, whole.byteLength));
  }

  /** Memory for a kept body of `length` bytes: a given-back one of about that size, or new. */
  #keep(length: number): Buffer {
    const kept = this.#kept;
    for (let i = kept.length - 1; i >= 0; i--) {
      const candidate = kept[i]!;
      if (candidate.length >= length && candidate.length <= length + (length >> 2) + 16384) {
        kept[i] = kept[kept.length - 1]!;
        kept.pop();
        this.#keptBytes -= candidate.length;
        return candidate.subarray(0, length);
      }
    }
    // Rounded up so bodies of a similar size can take each other's memory.
    return Buffer.allocUnsafeSlow(Math.ceil(length / 16384) * 16384).subarray(0, length);
  }

  /** A body of the events of `batch` at `indexes` only, laid out as configured (copied from its body). */
  encodeSome(batch: EncodedBatch, indexes: readonly number[]): Buffer {
    const { body, spans } = batch;
    let length = this.#open.length + this.#close.length;
    for (const i of indexes) length += spans[2 * i + 1]! - spans[2 * i]!;
    length += Math.max(0, indexes.length - 1) * this.#separator.length;
    const writer = new ByteWriter(length);
    writer.bytes(this.#open);
    for (let n = 0; n < indexes.length; n++) {
      if (n > 0) writer.bytes(this.#separator);
      const i = indexes[n]!;
      writer.bytes(body.subarray(spans[2 * i], spans[2 * i + 1]));
    }
    writer.bytes(this.#close);
    return writer.finish();
  }

  #encode(events: readonly LogEvent[], spans: Uint32Array | undefined): Buffer {
    // Enough for ~100-byte lines with a short source; the writer grows when needed.
    const writer = new ByteWriter(events.length * 256, this.#spare.pop());
    this.#headAt = -1;
    writer.bytes(this.#open);
    for (let i = 0; i < events.length; i++) {
      if (i > 0) writer.bytes(this.#separator);
      if (spans) spans[2 * i] = writer.offset;
      this.#event(writer, events[i]!);
      if (spans) spans[2 * i + 1] = writer.offset;
    }
    writer.bytes(this.#close);
    return writer.finish();
  }

  /**
   * Gives back a body encode() returned, once nothing reads it any more (the request that sent it
   * is over): the next batches are written into its memory. At most 4 are kept, of at most 8 MiB.
   */
  recycle(body: Buffer): void {
    const whole = body.buffer;
    if (body.byteOffset !== 0 || whole.byteLength > 8 * 1024 * 1024 || this.#spare.length >= 4)
      return;
    this.#spare.push(Buffer.from(whole, 0, whole.byteLength));
  }

  #event(writer: ByteWriter, event: LogEvent): void {
    this.#fields(writer, event.fields);
    if (
      this.#headAt >= 0 &&
      event.timestamp === this.#headTime &&
      event.level === this.#headLevel
    ) {
      const at = writer.offset;
      writer.repeat(this.#headAt, this.#headLength);
      this.#headAt = at;
    } else {
      const level = event.level === undefined ? "" : `"level":${JSON.stringify(event.level)},`;
      const at = writer.offset;
      writer.utf8(`${this.#timeHead}${isoTime(event.timestamp)}",${level}"message":`);
      this.#headAt = at;
      this.#headLength = writer.offset - at;
      this.#headTime = event.timestamp;
      this.#headLevel = event.level;
    }
    writer.utf8(JSON.stringify(event.message));
    if (event.source !== this.#source) {
      this.#source = event.source;
      this.#sourceBytes = Buffer.from(`,"source":${JSON.stringify(event.source)}`, "utf8");
    }
    writer.bytes(this.#sourceBytes);
    if (event.parseError !== undefined)
      writer.utf8(`,"parseError":${JSON.stringify(event.parseError)}`);
    writer.byte(0x7d); // }
  }

  /** `{` and the fields, each followed by a comma; the reserved keys (see eventJsonText) are left out. */
  #fields(writer: ByteWriter, fields: Record<string, unknown>): void {
    let plain = true;
    let empty = true;
    for (const key in fields) {
      empty = false;
      if (
        key === this.#timestampKey ||
        key === "level" ||
        key === "message" ||
        key === "source" ||
        key === "parseError" ||
        !Object.hasOwn(fields, key)
      ) {
        plain = false;
        break;
      }
    }
    if (empty) {
      writer.byte(0x7b); // {
      return;
    }
    if (plain) {
      // `{"a":1,"b":2}` written whole, its closing brace turned into the comma before the time
      // (JSON.stringify leaves out undefined values as eventJsonText does).
      const json = JSON.stringify(fields);
      writer.utf8(json);
      if (json.length > 2)
        writer.buffer[writer.offset - 1] = 0x2c; // ,
      else writer.offset--;
      return;
    }
    writer.byte(0x7b);
    for (const key in fields) {
      const value = fields[key];
      if (
        value === undefined ||
        key === this.#timestampKey ||
        key === "level" ||
        key === "message" ||
        key === "source" ||
        key === "parseError"
      )
        continue;
      const json = JSON.stringify(value);
      if (json !== undefined) writer.utf8(`${JSON.stringify(key)}:${json},`);
    }
  }
}
