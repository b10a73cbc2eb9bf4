/**
 * The contract between the parts of the logs pipeline, in the shape
 * source → parser → transform → sink (as Vector and Fluent Bit have it).
 *
 * Delivery is at-least-once: a source hands lines on with a `position`; a checkpoint moves past a
 * position only after every sink has acknowledged (or dead-lettered) every event up to it.
 */

/** Where a line came from and how far into that stream it ends: what a checkpoint records. */
export interface StreamPosition {
  /** A stable id of the stream: a file's fingerprint, or "stdout"/"stderr" of the app. */
  streamId: string;
  /** Byte offset just past the line's newline in that stream. */
  offset: number;
}

/** One raw line read by a source (no trailing newline). */
export interface SourceLine {
  text: string;
  /** Where it was read: file path, or "stdout"/"stderr". Becomes the event's `source`. */
  source: string;
  position: StreamPosition;
  /** When the line was read, ms since the epoch. */
  readAt: number;
  /** The line was cut at maxLineBytes (the rest follows as more lines, or was dropped). */
  truncated?: boolean;
}

/** One log event as it moves through parsers, transforms and sinks. */
export interface LogEvent {
  /** The message text (the raw line when nothing parsed it). */
  message: string;
  /** When the event happened: parsed from the line when a parser finds a time, else the read time (ms since the epoch). */
  timestamp: number;
  /** Normalized level when known: trace, debug, info, warn, error, fatal. */
  level?: string;
  /** Structured fields from parsers and transforms. */
  fields: Record<string, unknown>;
  /** Where it came from (file path or stdout/stderr). */
  source: string;
  /** The position of the last line this event holds; acknowledging the event acknowledges it. */
  position: StreamPosition;
  /** Set when a parser failed: the raw line is kept in `message`, never lost. */
  parseError?: string;
}

/**
 * A parser turns lines into events. It may hold lines (multiline, CRI partial lines) and emit
 * them later: `push` returns the events completed by this line; `flush` returns what it holds
 * for a stream (called on timeout and at shutdown). Positions of held lines are not emitted
 * before the event that holds them, so checkpoints never pass an unsent line.
 */
export interface Parser {
  push(line: SourceLine): LogEvent[];
  /** Events held for `source` (or for every source when omitted), e.g. after a flush timeout. */
  flush(source?: string): LogEvent[];
}

/** A transform returns the event (changed or not), or null to drop it (counted by the caller). */
export type Transform = (event: LogEvent) => LogEvent | null;

/**
 * A sink delivers events. `write` resolves once every event in the batch is delivered or
 * dead-lettered (never silently dropped); it applies backpressure simply by not resolving yet.
 * Batching, retries and the dead-letter file live in the sink's service, not in the pipeline.
 */
export interface Sink {
  readonly name: string;
  write(events: readonly LogEvent[]): Promise<void>;
  /** Sends what is buffered, within the deadline; resolves with the number of events left unsent. */
  close(deadline: AbortSignal): Promise<number>;
}
