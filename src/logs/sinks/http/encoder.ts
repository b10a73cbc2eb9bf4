import type { LogEvent } from "../../log-event.ts";
import { JsonBodyEncoder } from "../service/json-body.ts";

export type HttpEncoding = "ndjson" | "json";

/**
 * The request body and its content type for a batch: NDJSON (one event per line) or one JSON
 * array. One encoder per sink.
 *
 * @example
 * const encoder = createHttpEncoder("ndjson");
 * encoder.encode(events); // { body: <Buffer …>, contentType: "application/x-ndjson" }
 */
export function createHttpEncoder(encoding: HttpEncoding): {
  encode(events: readonly LogEvent[]): { body: Buffer; contentType: string };
  /** Gives a body back once its request is over (its memory is reused). */
  recycle(body: Buffer): void;
} {
  const contentType = encoding === "ndjson" ? "application/x-ndjson" : "application/json";
  const encoder = new JsonBodyEncoder(
    encoding === "ndjson" ? {} : { open: "[", separator: ",", close: "]" },
  );
  return {
    encode: (events) => ({ body: encoder.encode(events), contentType }),
    recycle: (body) => encoder.recycle(body),
  };
}
