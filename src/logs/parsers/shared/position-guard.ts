import type { LogEvent, SourceLine, StreamPosition } from "../../log-event.ts";

/** Where the first line an event holds began (the end offset of the line before it). */
const eventStarts = new WeakMap<LogEvent, number>();

/** The offset where the first line `event` holds began, when a parser recorded it. */
export function eventStart(event: LogEvent): number | undefined {
  return eventStarts.get(event);
}

export function setEventStart(event: LogEvent, offset: number): LogEvent {
  eventStarts.set(event, offset);
  return event;
}

/**
 * Keeps checkpoints behind lines a parser holds. A parser that holds lines (a CRI partial line,
 * the lines of a multiline event) may still emit other events of the same stream meanwhile (the
 * other CRI stream, another group); their positions are lowered to where the oldest held line
 * began, so a checkpoint never moves past a line that has not been sent. After a crash the lines
 * from there are read again: at-least-once, never lost.
 */
export class PositionGuard {
  /** streamId → end offset of the last line seen. */
  readonly #lastOffset = new Map<string, number>();
  /** hold key → (streamId, offset where its first held line began). */
  readonly #held = new Map<string, { streamId: string; start: number }>();

  /** Records a line; returns the offset where it began. */
  observe(line: SourceLine): number {
    const { streamId, offset } = line.position;
    const previous = this.#lastOffset.get(streamId);
    const start =
      previous !== undefined && previous <= offset
        ? previous
        : Math.max(0, offset - Buffer.byteLength(line.text) - 1);
    this.#lastOffset.set(streamId, offset);
    return start;
  }

  /** Marks `key` as holding lines from `start` on (the first call for a key wins). */
  hold(key: string, streamId: string, start: number): void {
    if (!this.#held.has(key)) this.#held.set(key, { streamId, start });
  }

  release(key: string): void {
    this.#held.delete(key);
  }

  /** The position lowered to the start of the oldest line still held in its stream. */
  clamp(position: StreamPosition): StreamPosition {
    let lowest = position.offset;
    for (const held of this.#held.values())
      if (held.streamId === position.streamId && held.start < lowest) lowest = held.start;
    return lowest === position.offset ? position : { streamId: position.streamId, offset: lowest };
  }

  /** Applies `clamp` to each event's position (in place) and returns them. */
  clampAll(events: LogEvent[]): LogEvent[] {
    if (this.#held.size === 0) return events;
    for (const event of events) event.position = this.clamp(event.position);
    return events;
  }
}
