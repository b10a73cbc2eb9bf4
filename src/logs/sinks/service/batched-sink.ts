import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelay } from "../../../runtime/backoff.ts";
import type { ComponentContext } from "../../../runtime/component.ts";
import { describeError, SidecarError } from "../../../runtime/errors.ts";
import type { LogEvent, Sink } from "../../log-event.ts";
import { LogsSinkErrorCodes } from "../error-codes.ts";
import { DeadLetterFile } from "./dead-letter-file.ts";
import { estimateSize } from "./estimate-size.ts";
import { failureReason, PermanentSendError, type SendOutcome } from "./send-outcome.ts";
import type { ServiceConfig } from "./service-config.ts";
import { type EncodedBatch, SinkBatch, type Ticket } from "./sink-batch.ts";
import { type FailReason, SinkMetrics } from "./sink-metrics.ts";

/** Sends one batch; `signal` aborts when close's deadline fires. A throw counts as retryable. */
export type SendBatch = (events: readonly LogEvent[], signal: AbortSignal) => Promise<SendOutcome>;

/**
 * A sink that encodes each batch when it is cut, not when it is sent: the batch then keeps only
 * its bytes through queueing, retries and partial retries, and its event objects die young.
 */
export interface BatchEncoding {
  /** The batch as it is sent. A throw dead-letters the batch (a value JSON cannot hold). */
  encode(events: readonly LogEvent[]): EncodedBatch;
  /** Sends the whole batch (`indexes` undefined) or only its events at `indexes`. A throw counts as retryable. */
  send(
    batch: EncodedBatch,
    indexes: readonly number[] | undefined,
    signal: AbortSignal,
  ): Promise<SendOutcome>;
  /** Called once the batch is settled and no request reads it any more: its memory may be reused. */
  release?(batch: EncodedBatch): void;
}

export interface BatchedSinkOptions {
  type: string;
  /** How batches are sent, unless `encoding` is given. */
  send?: SendBatch;
  /** Batches encoded when cut (see BatchEncoding); `send` is then unused. */
  encoding?: BatchEncoding;
  /** Bytes an event adds to a batch (for batch.maxBytes); default its JSON length. */
  sizeOf?: (event: LogEvent) => number;
  /** Called once when the sink closes, after the last batch (close sockets, pools). */
  onClose?: () => Promise<void> | void;
  /** In [0, 1) for backoff jitter; default Math.random. */
  random?: () => number;
}

/**
 * The service layer every sink shares: batching (count, bytes, age), a bounded number of batches
 * in flight, retries with exponential backoff and jitter (honouring Retry-After), a dead-letter
 * file for what the receiver rejects for good, and metrics. `write` resolves only once every one
 * of its events is delivered or dead-lettered — that is the backpressure. A partial batch goes out
 * at once when nothing is in flight (an idle sink adds no latency) and otherwise waits to fill
 * up for at most `batch.maxAgeSeconds`.
 */
export class BatchedSink implements Sink {
  readonly name: string;
  readonly deadLetter: DeadLetterFile;
  readonly #config: ServiceConfig;
  readonly #options: BatchedSinkOptions;
  readonly #ctx: ComponentContext;
  readonly #metrics: SinkMetrics;
  readonly #abort = new AbortController();
  readonly #sizeOf: (event: LogEvent) => number;
  #pending = new SinkBatch();
  #timer: NodeJS.Timeout | undefined;
  readonly #queue: SinkBatch[] = [];
  #inFlight = 0;
  #unsent = 0;
  #closing: Promise<number> | undefined;
  readonly #idle = new Set<() => void>();
  /** Batches whose encoding threw, with the error. */
  readonly #encodeErrors = new WeakMap<SinkBatch, unknown>();

  constructor(config: ServiceConfig, ctx: ComponentContext, options: BatchedSinkOptions) {
    this.name = config.name ?? options.type;
    this.#config = config;
    this.#options = options;
    this.#ctx = ctx;
    this.#metrics = new SinkMetrics(ctx.registry, this.name);
    this.#sizeOf = options.sizeOf ?? estimateSize;
    if (!options.send && !options.encoding)
      throw new TypeError("A batched sink needs `send` or `encoding`");
    this.deadLetter = new DeadLetterFile({
      path: config.deadLetter.path ?? join(ctx.stateDir, "dead-letter", `${this.name}.jsonl`),
      sink: this.name,
      maxBytes: config.deadLetter.maxBytes,
      now: ctx.now,
    });
  }

  write(events: readonly LogEvent[]): Promise<void> {
    if (this.#closing)
      return Promise.reject(
        new SidecarError(
          LogsSinkErrorCodes.SINK_CLOSED,
          `Sink "${this.name}" is closed: write refused`,
        ),
      );
    if (events.length === 0) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const ticket: Ticket = { remaining: events.length, error: undefined, resolve, reject };
    const { maxEvents, maxBytes } = this.#config.batch;
    for (const event of events) {
      this.#pending.add(event, ticket, this.#sizeOf(event));
      if (this.#pending.length >= maxEvents || this.#pending.bytes >= maxBytes) this.#cut();
    }
    if (this.#pending.length > 0) {
      if (this.#inFlight === 0 && this.#queue.length === 0) this.#cut();
      else
        this.#timer ??= setTimeout(() => {
          this.#cut();
          this.#pump();
        }, this.#config.batch.maxAgeSeconds * 1000);
    }
    this.#pump();
    return promise;
  }

  /** Sends what is buffered and waits for it, up to `deadline`; resolves with the events left unsent. */
  close(deadline: AbortSignal): Promise<number> {
    this.#closing ??= this.#close(deadline);
    return this.#closing;
  }

  async #close(deadline: AbortSignal): Promise<number> {
    this.#cut();
    this.#pump();
    const onDeadline = () => this.#abort.abort(deadline.reason);
    if (deadline.aborted) onDeadline();
    else deadline.addEventListener("abort", onDeadline, { once: true });
    while (this.#inFlight > 0 || this.#queue.length > 0) {
      if (this.#abort.signal.aborted) {
        for (const batch of this.#queue.splice(0)) this.#giveUp(batch, undefined);
      }
      if (this.#inFlight === 0) break;
      await new Promise<void>((resolve) => this.#idle.add(resolve));
    }
    deadline.removeEventListener("abort", onDeadline);
    await this.#options.onClose?.();
    if (this.#unsent > 0)
      this.#ctx.logger.warn(
        { sink: this.name, unsent: this.#unsent },
        `Sink "${this.name}" closed with events unsent`,
      );
    return this.#unsent;
  }

  #cut(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = new SinkBatch();
    this.#queue.push(batch);
    const encoding = this.#options.encoding;
    if (!encoding) return;
    try {
      batch.seal(encoding.encode(batch.events));
    } catch (error) {
      // Left unsealed: #run dead-letters its events, as a receiver's rejection would.
      this.#encodeErrors.set(batch, error);
    }
  }

  #pump(): void {
    while (this.#inFlight < this.#config.maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.shift()!;
      this.#inFlight++;
      this.#metrics.inFlight(this.#inFlight);
      this.#run(batch)
        .catch((error: unknown) => {
          // #run handles every outcome itself; this is a bug guard so no event is silently lost.
          this.#ctx.logger.error(
            { sink: this.name, error: describeError(error) },
            "Sink batch failed unexpectedly",
          );
          batch.settle(error instanceof Error ? error : new Error(String(error)));
        })
        .finally(() => {
          // After a close deadline a request may have been cut mid-body: its bytes are not reused.
          if (batch.encoded && !this.#abort.signal.aborted)
            this.#options.encoding?.release?.(batch.encoded);
          this.#inFlight--;
          this.#metrics.inFlight(this.#inFlight);
          if (this.#pending.length > 0 && this.#inFlight === 0 && this.#queue.length === 0)
            this.#cut();
          this.#pump();
          for (const wake of this.#idle) wake();
          this.#idle.clear();
        });
    }
  }

  async #run(batch: SinkBatch): Promise<void> {
    const encoding = this.#options.encoding;
    if (this.#encodeErrors.has(batch)) {
      const error = this.#encodeErrors.get(batch);
      this.#encodeErrors.delete(batch);
      return this.#deadLetter(
        batch,
        undefined,
        `Cannot encode the batch: ${error instanceof Error ? error.message : String(error)}`,
        "rejected",
      );
    }
    /** The indexes (into the batch) of the events left to send; undefined: all of them. */
    let active: number[] | undefined;
    let attempt = 0;
    const signal = this.#abort.signal;
    for (;;) {
      if (signal.aborted) return this.#giveUp(batch, active);
      const count = active ? active.length : batch.length;
      let outcome: SendOutcome;
      try {
        if (encoding && batch.encoded) outcome = await encoding.send(batch.encoded, active, signal);
        else {
          const events = batch.events;
          outcome = await this.#options.send!(
            active ? active.map((i) => events[i]!) : events,
            signal,
          );
        }
      } catch (error) {
        outcome =
          error instanceof PermanentSendError
            ? { kind: "reject", reason: error.message }
            : { kind: "retry", reason: failureReason(error) };
      }
      let retryReason: string;
      let retryAfterMs: number | undefined;
      switch (outcome.kind) {
        case "delivered":
          this.#metrics.sent(count, this.#ctx.now());
          settle(batch, active);
          return;
        case "reject":
          await this.#deadLetter(batch, active, outcome.reason, "rejected");
          return;
        case "partial": {
          const retrySet = new Set(outcome.retry);
          const rejectedSet = new Set(outcome.rejected.map((r) => r.index));
          const at = (i: number) => (active ? active[i]! : i);
          const delivered: number[] = [];
          const retry: number[] = [];
          for (let i = 0; i < count; i++) {
            if (retrySet.has(i)) retry.push(at(i));
            else if (!rejectedSet.has(i)) delivered.push(at(i));
          }
          this.#metrics.sent(delivered.length, this.#ctx.now());
          batch.settleSome(delivered);
          for (const { index, reason } of outcome.rejected)
            if (index < count) await this.#deadLetter(batch, [at(index)], reason, "rejected");
          active = retry;
          if (active.length === 0) return;
          retryReason = outcome.retryReason ?? "some items failed";
          break;
        }
        case "retry":
          retryReason = outcome.reason;
          retryAfterMs = outcome.retryAfterMs;
          break;
      }
      if (signal.aborted) return this.#giveUp(batch, active);
      attempt++;
      const { maxRetries, initialBackoffSeconds, maxBackoffSeconds, maxRetryAfterSeconds } =
        this.#config.retry;
      if (maxRetries !== undefined && attempt > maxRetries) {
        await this.#deadLetter(
          batch,
          active,
          `retries exhausted: ${retryReason}`,
          "retries_exhausted",
        );
        return;
      }
      this.#metrics.retried();
      const delay =
        retryAfterMs !== undefined
          ? Math.min(retryAfterMs, maxRetryAfterSeconds * 1000)
          : backoffDelay(attempt, {
              initialMs: initialBackoffSeconds * 1000,
              maxMs: maxBackoffSeconds * 1000,
              jitter: "equal",
              random: this.#options.random,
            });
      this.#ctx.logger.warn(
        {
          sink: this.name,
          attempt,
          events: count,
          delayMs: Math.round(delay),
          reason: retryReason,
        },
        `Sink "${this.name}" send failed, retrying`,
      );
      await sleep(delay, undefined, { signal }).catch(() => {});
    }
  }

  /** Dead-letters the events of `batch` at `indexes` (all of them when undefined). */
  async #deadLetter(
    batch: SinkBatch,
    indexes: number[] | undefined,
    reason: string,
    why: FailReason,
  ): Promise<void> {
    const items = { length: indexes ? indexes.length : batch.length };
    this.#metrics.failed(items.length, why);
    let written = false;
    let error: unknown;
    try {
      const encoded = batch.encoded;
      if (encoded) {
        const text = (i: number) =>
          encoded.body.toString("utf8", encoded.spans[2 * i], encoded.spans[2 * i + 1]);
        const texts = indexes
          ? indexes.map(text)
          : Array.from({ length: batch.length }, (_, i) => text(i));
        written = await this.deadLetter.appendEncoded(texts, reason);
      } else {
        const events = indexes ? indexes.map((i) => batch.events[i]!) : batch.events;
        written = await this.deadLetter.append(events.map((event) => ({ event, reason })));
      }
    } catch (caught) {
      error = caught;
    }
    if (written) {
      this.#metrics.deadLettered(items.length);
      this.#ctx.logger.error(
        { sink: this.name, events: items.length, reason, deadLetter: this.deadLetter.path },
        `Sink "${this.name}" dead-lettered events`,
      );
      settle(batch, indexes);
      return;
    }
    this.#metrics.failed(items.length, "dead_letter_failed");
    const message = error
      ? `Cannot write dead-letter file "${this.deadLetter.path}": ${describeError(error)}`
      : `Dead-letter file "${this.deadLetter.path}" is full: ${items.length} rejected events dropped`;
    this.#ctx.logger.error({ sink: this.name, events: items.length, reason }, message);
    // A full dead-letter file is counted and logged and the events let go (or the pipeline
    // would stall forever); a failing write keeps them unacknowledged.
    settle(
      batch,
      indexes,
      error
        ? new SidecarError(LogsSinkErrorCodes.DEAD_LETTER_WRITE, message, { cause: error })
        : undefined,
    );
  }

  #giveUp(batch: SinkBatch, indexes: number[] | undefined): void {
    const count = indexes ? indexes.length : batch.length;
    this.#unsent += count;
    this.#metrics.failed(count, "unsent_at_close");
    settle(
      batch,
      indexes,
      new SidecarError(
        LogsSinkErrorCodes.SINK_CLOSED,
        `Sink "${this.name}" closed before ${count} events were sent`,
      ),
    );
  }
}

/** Settles the events of `batch` at `indexes`, or all of them when undefined. */
function settle(batch: SinkBatch, indexes: number[] | undefined, error?: Error): void {
  if (indexes) batch.settleSome(indexes, error);
  else batch.settle(error);
}
