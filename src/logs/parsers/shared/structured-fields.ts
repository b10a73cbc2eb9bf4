import { z } from "zod";
import type { LogEvent, SourceLine } from "../../log-event.ts";
import { normalizeLevel } from "./normalize-level.ts";
import { checkTimestampFormat, parseTimestamp } from "./parse-timestamp.ts";

const timestampFormatSchema = z.string().superRefine((format, ctx) => {
  try {
    checkTimestampFormat(format);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/**
 * The options every structured parser (json, logfmt, regex) shares: which keys hold the message,
 * the time (and its format) and the level. Unset keys are looked up among common names.
 */
export const structuredKeysSchema = {
  /** Key of the message; default the first of message, msg, log. */
  messageKey: z.string().min(1).optional(),
  /** Key of the time; default the first of timestamp, time, ts, @timestamp. */
  timestampKey: z.string().min(1).optional(),
  /** Format of the time (see parse-timestamp.ts); default "auto". */
  timestampFormat: timestampFormatSchema.default("auto"),
  /** Key of the level; default the first of level, lvl, severity, loglevel. */
  levelKey: z.string().min(1).optional(),
};

export interface StructuredKeys {
  messageKey?: string | undefined;
  timestampKey?: string | undefined;
  timestampFormat: string;
  levelKey?: string | undefined;
}

const messageKeys = ["message", "msg", "log"];
const timestampKeys = ["timestamp", "time", "ts", "@timestamp"];
const levelKeys = ["level", "lvl", "severity", "loglevel"];

function pick(record: Record<string, unknown>, key: string | undefined, candidates: string[]) {
  if (key !== undefined) return key in record ? key : undefined;
  return candidates.find((candidate) => candidate in record);
}

/** An event that holds the line as it was, with nothing parsed (and `parseError` when given). */
export function rawEvent(line: SourceLine, parseError?: string): LogEvent {
  const event: LogEvent = {
    message: line.text,
    timestamp: line.readAt,
    fields: line.truncated ? { truncated: true } : {},
    source: line.source,
    position: line.position,
  };
  if (parseError !== undefined) event.parseError = parseError;
  return event;
}

/**
 * Builds an event from a parsed record: the message, time and level keys are taken out of the
 * record (a time or level that does not parse stays a field); every other key becomes a field.
 */
export function eventFromRecord(
  line: SourceLine,
  record: Record<string, unknown>,
  keys: StructuredKeys,
): LogEvent {
  let message = line.text;
  let timestamp = line.readAt;
  let level: string | undefined;
  const messageKey = pick(record, keys.messageKey, messageKeys);
  if (messageKey !== undefined) {
    const value = record[messageKey];
    message = typeof value === "string" ? value : JSON.stringify(value);
  }
  let timestampKey = pick(record, keys.timestampKey, timestampKeys);
  if (timestampKey !== undefined) {
    const time = parseTimestamp(record[timestampKey], keys.timestampFormat);
    if (time === undefined) timestampKey = undefined;
    else timestamp = time;
  }
  let levelKey = pick(record, keys.levelKey, levelKeys);
  if (levelKey !== undefined) {
    level = normalizeLevel(record[levelKey]);
    if (level === undefined) levelKey = undefined;
  }
  // Build the fields without the keys taken out (no copy-then-delete: deleting slows objects).
  const fields: Record<string, unknown> = {};
  for (const key in record)
    if (key !== messageKey && key !== timestampKey && key !== levelKey) {
      if (key === "__proto__")
        Object.defineProperty(fields, key, {
          value: record[key],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else fields[key] = record[key];
    }
  if (line.truncated) fields.truncated = true;
  const event: LogEvent = {
    message,
    timestamp,
    fields,
    source: line.source,
    position: line.position,
  };
  if (level !== undefined) event.level = level;
  return event;
}
