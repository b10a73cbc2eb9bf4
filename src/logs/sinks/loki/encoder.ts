import type { LogEvent } from "../../log-event.ts";
import { fieldValue } from "../../transforms/field-path.ts";
import { eventJson } from "../service/event-json.ts";

export interface LokiEncoderOptions {
  /** Label name → where its value comes from (`level`, `source`, or a field path). */
  labels: Record<string, string>;
  staticLabels: Record<string, string>;
  /** Distinct values one label may take; later new values become `overflowValue`. */
  maxLabelValues: number;
  overflowValue: string;
  /** `json`: the whole event as JSON; `message`: the message only. */
  line: "json" | "message";
  /** Called once per label that overflowed. */
  onOverflow?: (label: string) => void;
}

export interface LokiPushBody {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

/**
 * Builds Loki push bodies (`POST /loki/api/v1/push`): events grouped into streams by their
 * labels, entries of each stream sorted by time, times as nanosecond strings. Label values are
 * bounded: past `maxLabelValues` distinct values a label maps new ones to `overflowValue`, so a
 * field such as a request id cannot create unbounded streams.
 */
export class LokiEncoder {
  readonly #options: LokiEncoderOptions;
  readonly #seen = new Map<string, Set<string>>();
  readonly #warned = new Set<string>();
  readonly #labelFields: Set<string>;

  constructor(options: LokiEncoderOptions) {
    this.#options = options;
    this.#labelFields = new Set(Object.values(options.labels));
  }

  labelsOf(event: LogEvent): Record<string, string> {
    const labels: Record<string, string> = { ...this.#options.staticLabels };
    for (const [label, path] of Object.entries(this.#options.labels)) {
      const raw = fieldValue(event, path);
      if (raw === undefined || raw === null || raw === "") continue;
      labels[label] = this.#bounded(label, typeof raw === "string" ? raw : JSON.stringify(raw));
    }
    return labels;
  }

  encode(events: readonly LogEvent[]): LokiPushBody {
    const streams = new Map<
      string,
      { stream: Record<string, string>; entries: { t: number; line: string }[] }
    >();
    for (const event of events) {
      const stream = this.labelsOf(event);
      const key = JSON.stringify(Object.entries(stream).sort(([a], [b]) => (a < b ? -1 : 1)));
      let entry = streams.get(key);
      if (!entry) {
        entry = { stream, entries: [] };
        streams.set(key, entry);
      }
      entry.entries.push({ t: event.timestamp, line: this.#line(event) });
    }
    return {
      streams: [...streams.values()].map(({ stream, entries }) => ({
        stream,
        values: entries
          .sort((a, b) => a.t - b.t)
          .map(({ t, line }): [string, string] => [`${Math.max(0, Math.floor(t))}000000`, line]),
      })),
    };
  }

  #line(event: LogEvent): string {
    if (this.#options.line === "message") return event.message;
    const json = eventJson(event);
    for (const field of this.#labelFields)
      if (field in event.fields && field !== "message") delete json[field];
    return JSON.stringify(json);
  }

  #bounded(label: string, value: string): string {
    let seen = this.#seen.get(label);
    if (!seen) {
      seen = new Set();
      this.#seen.set(label, seen);
    }
    if (seen.has(value)) return value;
    if (seen.size < this.#options.maxLabelValues) {
      seen.add(value);
      return value;
    }
    if (!this.#warned.has(label)) {
      this.#warned.add(label);
      this.#options.onOverflow?.(label);
    }
    return this.#options.overflowValue;
  }
}
