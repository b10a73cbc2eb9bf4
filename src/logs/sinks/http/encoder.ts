import type { LogEvent } from "../../log-event.ts";
import { JsonBodyEncoder } from "../service/json-body.ts";
import type { EncodedBatch } from "../service/sink-batch.ts";

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
  contentType: string;
  encode(events: readonly LogEvent[]): { body: Buffer; contentType: string };
  /** The batch's body and where each event lies in it (for partial retries and dead letters). */
  encodeWithSpans(events: readonly LogEvent[]): EncodedBatch;
  /** Gives back a batch encodeWithSpans made once it is settled (its memory is reused). */
  release(batch: EncodedBatch): void;
  /** A body of only the events of `batch` at `indexes`. */
  encodeSome(batch: EncodedBatch, indexes: readonly number[]): Buffer;
  /** Gives a body back once its request is over (its memory is reused). */
  recycle(body: Buffer): void;
} {
  const contentType = encoding === "ndjson" ? "application/x-ndjson" : "application/json";
  const encoder = new JsonBodyEncoder(
    encoding === "ndjson" ? {} : { open: "[", separator: ",", close: "]" },
  );
  return {
    contentType,
    encode: (events) => ({ body: encoder.encode(events), contentType }),
    encodeWithSpans: (events) => encoder.encodeWithSpans(events),
    encodeSome: (batch, indexes) => encoder.encodeSome(batch, indexes),
    release: (batch) => encoder.release(batch),
    recycle: (body) => encoder.recycle(body),
  };
}
