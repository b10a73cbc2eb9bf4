import type { MemoryPressureSignal } from "../../runtime/memory-pressure.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import type { LogEvent, Parser, Sink, SourceLine, Transform } from "../log-event.ts";
import type { LogsMetrics } from "../logs-metrics.ts";
import { AckTracker, type Batch } from "./ack-tracker.ts";

export interface PipelineOptions {
  transforms: readonly Transform[];
  sinks: readonly Sink[];
  /** Bytes of lines read and not yet acknowledged before sources pause. Default 8 MiB. */
  maxBufferBytes?: number;
  /** Events per sink write. Default 2000. */
  batchEvents?: number;
  logger: Logger;
  metrics?: LogsMetrics;
  now?: () => number;
  /**
   * While active, `accept` resolves only once everything handed off is acknowledged: sources
   * read one chunk at a time and the rest waits on disk or in the pipe.
   */
  pressure?: MemoryPressureSignal;
}

/** The pipeline's view of a source: a parser for its lines and where commits go. */
export interface PipelineSource {
  readonly name: string;
  readonly parser: Parser;
  /** How long a parser may hold lines of a quiet file before flush (multiline). Default 1000. */
  readonly flushTimeoutMs?: number;
  commit(streamId: string, offset: number): void;
}

/**
 * source lines → parser → transforms → every sink, at least once and in bounded memory. Each
 * hand-off is tracked until every sink resolved its writes; only then does the source's
 * checkpoint move (dropped events count as acknowledged). When the lines in flight reach
 * maxBufferBytes, `accept` does not resolve until some are acknowledged, which pauses reading;
 * under memory pressure it waits until all are.
 */
export class Pipeline {
  readonly #sinks: readonly Sink[];
  readonly #transforms: readonly Transform[];
  readonly #maxBufferBytes: number;
  readonly #batchEvents: number;
  readonly #logger: Logger;
  readonly #metrics: LogsMetrics | undefined;
  readonly #now: () => number;
  readonly #tracker: AckTracker;
  readonly #pressure: MemoryPressureSignal | undefined;
  #stopWatchingPressure: (() => void) | undefined;
  /** source path → last time a line came, per pipeline source, for parser flush timeouts. */
  readonly #quiet = new Map<PipelineSource, Map<string, number>>();
  readonly #roomWaiters: (() => void)[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  #bufferedBytes = 0;
  #failedEvents = 0;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: PipelineOptions) {
    this.#sinks = options.sinks;
    this.#transforms = options.transforms;
    this.#maxBufferBytes = options.maxBufferBytes ?? 8 * 1024 * 1024;
    this.#batchEvents = options.batchEvents ?? 2000;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#now = options.now ?? Date.now;
    this.#tracker = new AckTracker();
    this.#pressure = options.pressure;
    if (this.#sinks.length === 0) throw new TypeError("A pipeline needs at least one sink");
  }

  /** Bytes of lines handed to the sinks and not yet acknowledged by all of them. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Events whose write a sink rejected (their lines are read again after a restart). */
  get failedEvents(): number {
    return this.#failedEvents;
  }

  /** Starts the timer that flushes lines parsers hold for quiet files. */
  start(): void {
    this.#flushTimer = setInterval(() => this.#flushQuiet(false), 250);
    this.#flushTimer.unref();
    this.#stopWatchingPressure ??= this.#pressure?.onChange((active) => {
      if (!active) this.#wakeRoomWaiters();
    });
  }

  /** Whether a source may read on: room in the buffer, and under memory pressure an empty one. */
  #hasRoom(): boolean {
    return (
      this.#bufferedBytes < this.#maxBufferBytes &&
      (this.#bufferedBytes === 0 || this.#pressure?.active !== true)
    );
  }

  #wakeRoomWaiters(): void {
    while (this.#hasRoom() && this.#roomWaiters.length > 0) this.#roomWaiters.shift()!();
  }

  /**
   * Parses, transforms and hands `lines` to every sink. Resolves when the buffer has room again
   * (immediately unless it is full) — the caller reads on only then.
   */
  accept(source: PipelineSource, lines: readonly SourceLine[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const now = this.#now();
    let quiet = this.#quiet.get(source);
    if (!quiet) {
      quiet = new Map();
      this.#quiet.set(source, quiet);
    }
    let bytes = 0;
    const events: LogEvent[] = [];
    const positions = new Map<string, number>();
    let lastPath = "";
    for (const line of lines) {
      bytes += line.text.length + 1;
      if (line.source !== lastPath) {
        lastPath = line.source;
        quiet.set(lastPath, now);
      }
      for (const event of source.parser.push(line)) this.#transform(event, events, positions);
    }
    this.#handOff(source, events, positions, bytes);
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Flushes every parser's held lines (shutdown), then waits until every hand-off settled or `deadline`. */
  async drain(deadline: AbortSignal): Promise<void> {
    clearInterval(this.#flushTimer);
    this.#stopWatchingPressure?.();
    this.#flushQuiet(true);
    if (this.#tracker.pending === 0 || deadline.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        deadline.removeEventListener("abort", done);
        resolve();
      };
      this.#idleWaiters.push(done);
      deadline.addEventListener("abort", done, { once: true });
    });
  }

  #transform(event: LogEvent, out: LogEvent[], positions: Map<string, number>): void {
    positions.set(event.position.streamId, event.position.offset);
    let current: LogEvent | null = event;
    for (const transform of this.#transforms) {
      current = transform(current);
      if (current === null) {
        this.#metrics?.dropped.inc({ reason: "transform" });
        return;
      }
    }
    out.push(current);
  }

  #handOff(
    source: PipelineSource,
    events: LogEvent[],
    positions: Map<string, number>,
    bytes: number,
  ): void {
    const chunks: LogEvent[][] = [];
    for (let i = 0; i < events.length; i += this.#batchEvents)
      chunks.push(
        i === 0 && events.length <= this.#batchEvents
          ? events
          : events.slice(i, i + this.#batchEvents),
      );
    const batch: Batch = {
      remaining: chunks.length * this.#sinks.length,
      failed: false,
      positions,
      bytes,
      commit: (streamId, offset) => source.commit(streamId, offset),
    };
    this.#bufferedBytes += bytes;
    this.#metrics?.bufferBytes.set(this.#bufferedBytes);
    this.#tracker.add(batch);
    if (batch.remaining === 0) this.#release(batch);
    for (const chunk of chunks) {
      // Only the count is kept: the events themselves are the sinks' until encoded, so they die young.
      const count = chunk.length;
      for (const sink of this.#sinks) {
        sink.write(chunk).then(
          () => this.#settle(batch, true),
          (error: unknown) => {
            this.#failedEvents += count;
            this.#metrics?.dropped.inc({ reason: "sink_failed" }, count);
            this.#logger.error(
              { sink: sink.name, events: count, error },
              "sink rejected a write; its lines are not checkpointed and will be read again after a restart",
            );
            this.#settle(batch, false);
          },
        );
      }
    }
  }

  #settle(batch: Batch, ok: boolean): void {
    this.#tracker.settle(batch, ok);
    if (batch.remaining === 0) this.#release(batch);
  }

  #release(batch: Batch): void {
    this.#bufferedBytes -= batch.bytes;
    this.#metrics?.bufferBytes.set(this.#bufferedBytes);
    this.#wakeRoomWaiters();
    if (this.#tracker.pending === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Hands on what parsers hold for files quiet longer than their flush timeout (or all, at shutdown). */
  #flushQuiet(all: boolean): void {
    const now = this.#now();
    for (const [source, paths] of this.#quiet) {
      const timeout = source.flushTimeoutMs ?? 1000;
      for (const [path, last] of paths) {
        if (!all && now - last < timeout) continue;
        paths.delete(path);
        const events: LogEvent[] = [];
        const positions = new Map<string, number>();
        for (const event of source.parser.flush(path)) this.#transform(event, events, positions);
        if (positions.size > 0) this.#handOff(source, events, positions, 0);
      }
      if (all) for (const event of source.parser.flush()) this.#lateEvent(source, event);
    }
  }

  #lateEvent(source: PipelineSource, event: LogEvent): void {
    const events: LogEvent[] = [];
    const positions = new Map<string, number>();
    this.#transform(event, events, positions);
    this.#handOff(source, events, positions, 0);
  }
}
