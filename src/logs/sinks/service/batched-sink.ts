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
import { SinkBatch, type Ticket } from "./sink-batch.ts";
import { type FailReason, SinkMetrics } from "./sink-metrics.ts";

/** Sends one batch; `signal` aborts when close's deadline fires. A throw counts as retryable. */
export type SendBatch = (events: readonly LogEvent[], signal: AbortSignal) => Promise<SendOutcome>;

export interface BatchedSinkOptions {
  type: string;
  send: SendBatch;
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

  constructor(config: ServiceConfig, ctx: ComponentContext, options: BatchedSinkOptions) {
    this.name = config.name ?? options.type;
    this.#config = config;
    this.#options = options;
    this.#ctx = ctx;
    this.#metrics = new SinkMetrics(ctx.registry, this.name);
    this.#sizeOf = options.sizeOf ?? estimateSize;
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
    this.#queue.push(this.#pending);
    this.#pending = new SinkBatch();
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
    /** The indexes (into batch.events) of the events left to send; undefined: all of them. */
    let active: number[] | undefined;
    let attempt = 0;
    const signal = this.#abort.signal;
    for (;;) {
      if (signal.aborted) return this.#giveUp(batch, active);
      const items = active ? active.map((i) => batch.events[i]!) : batch.events;
      let outcome: SendOutcome;
      try {
        outcome = await this.#options.send(items, signal);
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
          this.#metrics.sent(items.length, this.#ctx.now());
          settle(batch, active);
          return;
        case "reject":
          await this.#deadLetter(batch, active, items, outcome.reason, "rejected");
          return;
        case "partial": {
          const retrySet = new Set(outcome.retry);
          const rejectedSet = new Set(outcome.rejected.map((r) => r.index));
          const at = (i: number) => (active ? active[i]! : i);
          const delivered: number[] = [];
          const retry: number[] = [];
          for (let i = 0; i < items.length; i++) {
            if (retrySet.has(i)) retry.push(at(i));
            else if (!rejectedSet.has(i)) delivered.push(at(i));
          }
          this.#metrics.sent(delivered.length, this.#ctx.now());
          batch.settleSome(delivered);
          for (const { index, reason } of outcome.rejected)
            if (index < items.length)
              await this.#deadLetter(batch, [at(index)], [items[index]!], reason, "rejected");
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
          items,
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
          events: items.length,
          delayMs: Math.round(delay),
          reason: retryReason,
        },
        `Sink "${this.name}" send failed, retrying`,
      );
      await sleep(delay, undefined, { signal }).catch(() => {});
    }
  }

  /** Dead-letters `items`, the events of `batch` at `indexes` (all of them when undefined). */
  async #deadLetter(
    batch: SinkBatch,
    indexes: number[] | undefined,
    items: readonly LogEvent[],
    reason: string,
    why: FailReason,
  ): Promise<void> {
    this.#metrics.failed(items.length, why);
    let written = false;
    let error: unknown;
    try {
      written = await this.deadLetter.append(items.map((event) => ({ event, reason })));
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
