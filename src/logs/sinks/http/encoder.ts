import type { LogEvent } from "../../log-event.ts";
import { encodeJsonLines, eventJsonText } from "../service/event-json.ts";

export type HttpEncoding = "ndjson" | "json";

/** The request body and its content type for a batch. */
export function encodeHttpBody(
  events: readonly LogEvent[],
  encoding: HttpEncoding,
): { body: string; contentType: string } {
  return encoding === "ndjson"
    ? { body: encodeJsonLines(events), contentType: "application/x-ndjson" }
    : {
        body: `[${events.map((e) => eventJsonText(e)).join(",")}]`,
        contentType: "application/json",
      };
}
