import type { DestinationStream } from "pino";

const levelStyle: Record<string, [label: string, color: number]> = {
  trace: ["TRACE", 90],
  debug: ["DEBUG", 36],
  info: ["INFO ", 32],
  warn: ["WARN ", 33],
  error: ["ERROR", 31],
  fatal: ["FATAL", 35],
};

/** Fields every line has, or that the short form shows in place rather than as key=value. */
const shownInPlace = new Set(["time", "level", "msg", "role", "component", "pid", "hostname"]);

export interface PrettyStreamOptions {
  /** Where the lines go. */
  write: (text: string) => void;
  /** ANSI colours for the level (when writing to a terminal). */
  color: boolean;
}

/**
 * A pino destination that turns each JSON line into a short one for a terminal:
 * `17:40:02.113 INFO  proxy  proxy listening listener=ingress address=127.0.0.1:8081`.
 * Values are the already-redacted ones pino wrote, so secrets stay masked.
 */
export function createPrettyStream({ write, color }: PrettyStreamOptions): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split("\n")) if (line) write(`${formatLine(line, color)}\n`);
    },
  };
}

/** One JSON log line as a short readable one (a line that is not JSON is kept as is). */
export function formatLine(line: string, color = false): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof event.time === "string" ? event.time.slice(11, 23) : "";
  const [label, code] = levelStyle[String(event.level)] ?? [String(event.level).toUpperCase(), 0];
  const level = color && code ? `\u001b[${code}m${label}\u001b[0m` : label;
  const role = typeof event.role === "string" ? event.role.padEnd(6) : "      ";
  const fields = Object.entries(event)
    .filter(([key]) => !shownInPlace.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return [time, level, role, String(event.msg ?? ""), ...fields].filter(Boolean).join(" ");
}

function fieldText(value: unknown): string {
  if (typeof value === "string") return /[\s="]/.test(value) ? JSON.stringify(value) : value;
  if (value !== null && typeof value === "object") {
    const error = value as { message?: unknown };
    if (typeof error.message === "string" && Object.keys(value).includes("message"))
      return JSON.stringify(error.message);
    return JSON.stringify(value);
  }
  return String(value);
}
