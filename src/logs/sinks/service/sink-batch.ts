import type { LogEvent } from "../../log-event.ts";

/**
 * A batch as a sink encoded it when it was cut: the bytes to send and where each event's own
 * text lies in them, so partial retries and dead letters need no event objects.
 */
export interface EncodedBatch {
  readonly body: Buffer;
  /** Event i is `body[spans[2i], spans[2i + 1])`. */
  readonly spans: Uint32Array;
}

/** One write() call: it settles once each of its events is delivered or dead-lettered. */
export interface Ticket {
  remaining: number;
  error: Error | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The events of one batch and the writes they came from, kept as runs (consecutive events of one
 * write) instead of an object per event. Each event is settled at most once: settling the whole
 * batch after some of its events were settled (a partial outcome, then an unexpected error)
 * settles only the rest.
 *
 * @example
 * const batch = new SinkBatch();
 * batch.add(event, ticket, 120);
 * batch.settle(); // the ticket's write resolves once all its events are settled
 */
export class SinkBatch {
  /** The events added; emptied by seal() (they are then in `encoded`). */
  events: LogEvent[] = [];
  /** Set by seal(): the events as the sink will send them. */
  encoded: EncodedBatch | undefined;
  /** Sum of the sizes given to add(). */
  bytes = 0;
  #count = 0;
  readonly #tickets: Ticket[] = [];
  /** The index just past the last event of run i. */
  readonly #ends: number[] = [];
  /** Per event, 1 once settled; only made when a subset is settled. */
  #settled: Uint8Array | undefined;
  #done = false;

  get length(): number {
    return this.#count;
  }

  add(event: LogEvent, ticket: Ticket, size: number): void {
    this.events.push(event);
    this.#count++;
    this.bytes += size;
    const last = this.#tickets.length - 1;
    if (last >= 0 && this.#tickets[last] === ticket) this.#ends[last] = this.#count;
    else {
      this.#tickets.push(ticket);
      this.#ends.push(this.#count);
    }
  }

  /**
   * Keeps the batch as `encoded` only and lets go of its event objects, so they die young
   * instead of living (and being promoted to V8's old generation) until the batch is delivered.
   */
  seal(encoded: EncodedBatch): void {
    this.encoded = encoded;
    this.events = [];
  }

  /** Settles every event not settled yet; with `error`, their writes reject with it. */
  settle(error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    const settled = this.#settled;
    let start = 0;
    for (let run = 0; run < this.#tickets.length; run++) {
      const end = this.#ends[run]!;
      let count = end - start;
      if (settled) for (let i = start; i < end; i++) count -= settled[i]!;
      if (count > 0) settleTicket(this.#tickets[run]!, count, error);
      start = end;
    }
  }

  /** Settles the events at `indexes` (into `events`) not settled yet. */
  settleSome(indexes: readonly number[], error?: Error): void {
    if (this.#done) return;
    this.#settled ??= new Uint8Array(this.#count);
    for (const index of indexes) {
      if (this.#settled[index] === 1) continue;
      this.#settled[index] = 1;
      settleTicket(this.#tickets[this.#run(index)]!, 1, error);
    }
  }

  #run(index: number): number {
    let low = 0;
    let high = this.#ends.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#ends[mid]! > index) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}

function settleTicket(ticket: Ticket, count: number, error: Error | undefined): void {
  if (error) ticket.error ??= error;
  ticket.remaining -= count;
  if (ticket.remaining === 0) {
    if (ticket.error) ticket.reject(ticket.error);
    else ticket.resolve();
  }
}
