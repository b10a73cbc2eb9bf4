import type { LogEvent } from "../../log-event.ts";
import { encodeJsonLines, eventJson } from "../service/event-json.ts";

export type HttpEncoding = "ndjson" | "json";

/** The request body and its content type for a batch. */
export function encodeHttpBody(
  events: readonly LogEvent[],
  encoding: HttpEncoding,
): { body: string; contentType: string } {
  return encoding === "ndjson"
    ? { body: encodeJsonLines(events), contentType: "application/x-ndjson" }
    : { body: JSON.stringify(events.map((e) => eventJson(e))), contentType: "application/json" };
}
