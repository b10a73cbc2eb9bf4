import type { LogEvent } from "../../log-event.ts";

/** RFC 3339 of a ms timestamp; the epoch when the number is not a valid time. */
export function isoTime(timestamp: number): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

/**
 * The JSON shape sinks send an event in: fields first, then `timestamp` (RFC 3339), `level`,
 * `message`, `source` and `parseError`, which win over fields of the same name.
 *
 * @example
 * eventJson(event); // { user: "ann", timestamp: "2024-01-01T00:00:00.000Z", level: "info", message: "hi", source: "/a.log" }
 */
export function eventJson(event: LogEvent, timestampKey = "timestamp"): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event.fields };
  out[timestampKey] = isoTime(event.timestamp);
  if (event.level !== undefined) out.level = event.level;
  out.message = event.message;
  out.source = event.source;
  if (event.parseError !== undefined) out.parseError = event.parseError;
  return out;
}

/** One JSON line per event, each ending in a newline. */
export function encodeJsonLines(events: readonly LogEvent[]): string {
  let out = "";
  for (const event of events) out += `${JSON.stringify(eventJson(event))}\n`;
  return out;
}
