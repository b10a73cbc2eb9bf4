import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import type { LogEvent, Sink } from "../../log-event.ts";

/**
 * A real Sink for tests: keeps what it received; `write` waits for `gate` (hold it closed to
 * simulate a slow or down receiver) and can be told to fail.
 */
export class MemorySink implements Sink {
  readonly name: string;
  readonly events: LogEvent[] = [];
  writes = 0;
  fail = false;
  delayMs = 0;
  #open = true;
  #waiters: (() => void)[] = [];

  constructor(name = "memory") {
    this.name = name;
  }

  /** Stops acknowledging until `resume()`. */
  pause(): void {
    this.#open = false;
  }

  resume(): void {
    this.#open = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async write(events: readonly LogEvent[]): Promise<void> {
    this.writes++;
    while (!this.#open) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.fail) throw new Error("receiver down");
    this.events.push(...events);
  }

  async close(): Promise<number> {
    return 0;
  }

  messages(): string[] {
    return this.events.map((event) => event.message);
  }
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return {
    logger: pino({ level: "debug", messageKey: "msg", errorKey: "error" }, destination),
    lines,
  };
}

export { until } from "../../../runtime/testing.ts";
