import type { LogEvent } from "../../log-event.ts";

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 4;
  } catch {
    return 64; // not JSON (a BigInt, a cycle): the encoder will say so
  }
}

/**
 * About how many bytes an event takes once encoded, without encoding it: the message, the source
 * and string fields by length, other fields by their JSON, plus room for keys and the time.
 */
export function estimateSize(event: LogEvent): number {
  let size = event.message.length + event.source.length + 96;
  for (const key in event.fields) {
    const value = event.fields[key];
    size += key.length + 4;
    if (typeof value === "string") size += value.length;
    else if (typeof value === "number" || typeof value === "boolean") size += 16;
    else if (value !== undefined) size += jsonLength(value);
  }
  return size;
}
