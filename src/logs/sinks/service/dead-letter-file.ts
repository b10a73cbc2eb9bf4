import { appendFile, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { LogEvent } from "../../log-event.ts";

export interface DeadLetterOptions {
  path: string;
  sink: string;
  maxBytes: number;
  now: () => number;
}

/** One dead-letter line; an event JSON cannot hold (a BigInt, a cycle) keeps all but its fields. */
function record(time: string, sink: string, reason: string, event: LogEvent): string {
  try {
    return JSON.stringify({ time, sink, reason, event });
  } catch (error) {
    const { fields: _fields, ...rest } = event;
    const note = `fields not serializable: ${(error as Error).message}`;
    return JSON.stringify({ time, sink, reason, event: { ...rest, fields: { note } } });
  }
}

/**
 * An append-only JSON-lines file of the events a receiver rejected as permanently bad, one
 * `{time, sink, reason, event}` per line, so they can be inspected and replayed. Appends are
 * serialized; `append` resolves once the lines are written (false when the file is full).
 */
export class DeadLetterFile {
  readonly path: string;
  readonly #options: DeadLetterOptions;
  #chain: Promise<unknown> = Promise.resolve();
  #size: number | undefined;

  constructor(options: DeadLetterOptions) {
    this.#options = options;
    this.path = options.path;
  }

  append(events: readonly { event: LogEvent; reason: string }[]): Promise<boolean> {
    return this.#append(events.length, (time) =>
      events
        .map(({ event, reason }) => `${record(time, this.#options.sink, reason, event)}\n`)
        .join(""),
    );
  }

  /** Like append, for events kept as the JSON texts their sink encoded them to (the event as sent). */
  appendEncoded(texts: readonly string[], reason: string): Promise<boolean> {
    return this.#append(texts.length, (time) => {
      const head = `{"time":${JSON.stringify(time)},"sink":${JSON.stringify(this.#options.sink)},"reason":${JSON.stringify(reason)},"event":`;
      return texts.map((text) => `${head}${text}}\n`).join("");
    });
  }

  #append(count: number, lines: (time: string) => string): Promise<boolean> {
    const run = this.#chain.then(() => this.#write(count, lines));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #write(count: number, lines: (time: string) => string): Promise<boolean> {
    if (count === 0) return true;
    if (this.#size === undefined) {
      await mkdir(dirname(this.path), { recursive: true });
      this.#size = await stat(this.path).then(
        (s) => s.size,
        () => 0,
      );
    }
    const time = new Date(this.#options.now()).toISOString();
    const text = lines(time);
    const bytes = Buffer.byteLength(text);
    if (this.#size + bytes > this.#options.maxBytes) return false;
    await appendFile(this.path, text);
    this.#size += bytes;
    return true;
  }
}
