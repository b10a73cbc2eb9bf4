import type { LogEvent } from "../log-event.ts";

/**
 * Reads a value by name: `message`, `level`, `source`, `timestamp`, `parseError`, or a field
 * (`fields.user.id` or just `user.id`, dots going into nested objects).
 *
 * @example
 * fieldValue(event, "kubernetes.pod"); // event.fields.kubernetes.pod
 */
export function fieldValue(event: LogEvent, path: string): unknown {
  switch (path) {
    case "message":
      return event.message;
    case "level":
      return event.level;
    case "source":
      return event.source;
    case "timestamp":
      return event.timestamp;
    case "parseError":
      return event.parseError;
  }
  if (path in event.fields) return event.fields[path];
  const parts = (path.startsWith("fields.") ? path.slice(7) : path).split(".");
  let value: unknown = event.fields;
  for (const part of parts) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
