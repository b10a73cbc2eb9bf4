import type { LogEvent } from "../../log-event.ts";

let cachedSecond = Number.NaN;
let cachedPrefix = "";
const millis = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, "0")}Z`);

/**
 * RFC 3339 of a ms timestamp (`2024-01-01T00:00:00.000Z`); the epoch when the number is not a
 * valid time. The text up to the second is cached: events of a batch mostly share it, and
 * `toISOString` per event was a fifth of a JSON sink's time.
 */
export function isoTime(timestamp: number): string {
  const ms = Math.floor(timestamp);
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const date = new Date(second * 1000);
    if (Number.isNaN(date.getTime())) return new Date(0).toISOString();
    cachedPrefix = date.toISOString().slice(0, -4);
    cachedSecond = second;
  }
  return cachedPrefix + millis[ms - second * 1000]!;
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

const reserved = new Set(["level", "message", "source", "parseError"]);

/**
 * `JSON.stringify(eventJson(event))` without building the object (the hot path of every JSON
 * sink): the same keys and values; a field named like a reserved key is left out, not moved.
 */
export function eventJsonText(event: LogEvent, timestampKey = "timestamp"): string {
  let out = "{";
  const fields = event.fields;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined || key === timestampKey || reserved.has(key)) continue;
    const json = JSON.stringify(value);
    if (json !== undefined) out += `${JSON.stringify(key)}:${json},`;
  }
  out += `"${timestampKey}":"${isoTime(event.timestamp)}",`;
  if (event.level !== undefined) out += `"level":${JSON.stringify(event.level)},`;
  out += `"message":${JSON.stringify(event.message)},"source":${JSON.stringify(event.source)}`;
  if (event.parseError !== undefined) out += `,"parseError":${JSON.stringify(event.parseError)}`;
  return `${out}}`;
}

/** One JSON line per event, each ending in a newline. */
export function encodeJsonLines(events: readonly LogEvent[]): string {
  let out = "";
  for (const event of events) out += `${eventJsonText(event)}\n`;
  return out;
}
