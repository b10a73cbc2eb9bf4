import type { LogEvent } from "../../log-event.ts";
import { PositionGuard, setEventStart } from "./position-guard.ts";

export interface PartialJoinerOptions {
  /** A joined message longer than this (bytes) is emitted as it is, marked `partial: true`. */
  maxMessageBytes: number;
}

interface Pending {
  event: LogEvent;
  parts: string[];
  bytes: number;
  start: number;
}

/**
 * Joins partial records per (source, stream) for the CRI and Docker parsers: a partial piece is
 * held, the last piece completes the event, which carries the last piece's position.
 */
export class PartialJoiner {
  readonly guard = new PositionGuard();
  readonly #pending = new Map<string, Pending>();
  readonly #options: PartialJoinerOptions;

  constructor(options: PartialJoinerOptions) {
    this.#options = options;
  }

  /**
   * Adds one piece. `event` is the piece as an event (message = its content); `last` says
   * whether it ends the record. Returns the events completed by it.
   */
  add(event: LogEvent, stream: string, last: boolean, start: number): LogEvent[] {
    // A whole line with nothing held: the common case, kept cheap (its start is its line's).
    if (last && this.#pending.size === 0) return [event];
    const key = `${event.source}\u0000${stream}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      if (last) return this.guard.clampAll([event]);
      pending = { event, parts: [], bytes: 0, start };
      this.#pending.set(key, pending);
      this.guard.hold(key, event.position.streamId, start);
    }
    pending.parts.push(event.message);
    pending.bytes += Buffer.byteLength(event.message);
    pending.event.position = event.position;
    if (!last && pending.bytes < this.#options.maxMessageBytes) return [];
    const done = this.#complete(key, pending);
    if (!last) done.fields.partial = true;
    return this.guard.clampAll([done]);
  }

  /** The held pieces of `source` (or of all sources) as events, marked `partial: true`. */
  flush(source?: string): LogEvent[] {
    const out: LogEvent[] = [];
    for (const [key, pending] of this.#pending) {
      if (source !== undefined && pending.event.source !== source) continue;
      const event = this.#complete(key, pending);
      event.fields.partial = true;
      out.push(event);
    }
    return this.guard.clampAll(out);
  }

  #complete(key: string, pending: Pending): LogEvent {
    this.#pending.delete(key);
    this.guard.release(key);
    pending.event.message = pending.parts.join("");
    return setEventStart(pending.event, pending.start);
  }
}
