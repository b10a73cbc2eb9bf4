import type { LogEvent } from "../../log-event.ts";
import { JsonBodyEncoder } from "../service/json-body.ts";

export type HttpEncoding = "ndjson" | "json";

/**
 * The request body and its content type for a batch: NDJSON (one event per line) or one JSON
 * array. One encoder per sink.
 *
 * @example
 * const encode = createHttpEncoder("ndjson");
 * encode(events); // { body: <Buffer …>, contentType: "application/x-ndjson" }
 */
export function createHttpEncoder(
  encoding: HttpEncoding,
): (events: readonly LogEvent[]) => { body: Buffer; contentType: string } {
  const contentType = encoding === "ndjson" ? "application/x-ndjson" : "application/json";
  const encoder = new JsonBodyEncoder(
    encoding === "ndjson" ? {} : { open: "[", separator: ",", close: "]" },
  );
  return function encodeHttpBody(events) {
    return { body: encoder.encode(events), contentType };
  };
}
