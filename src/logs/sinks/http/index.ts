import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { Sink } from "../../log-event.ts";
import { BatchedSink } from "../service/batched-sink.ts";
import {
  createSinkAgents,
  httpShape,
  httpUrlSchema,
  outcomeOfResponse,
  sendHttp,
} from "../service/http-request.ts";
import { serviceConfigShape } from "../service/service-config.ts";
import { createHttpEncoder } from "./encoder.ts";

export const httpSinkSchema = z.strictObject({
  type: z.literal("http"),
  url: httpUrlSchema,
  method: z.enum(["POST", "PUT"]).default("POST"),
  /** NDJSON (one event per line) or one JSON array per batch. */
  encoding: z.enum(["ndjson", "json"]).default("ndjson"),
  ...httpShape,
  ...serviceConfigShape(),
});
export type HttpSinkConfig = z.infer<typeof httpSinkSchema>;

/**
 * Posts batches to any HTTP endpoint. 2xx is delivered; connection errors, timeouts, 408, 429
 * and 5xx are retried (Retry-After honoured); other 4xx are dead-lettered.
 *
 * @example
 * createHttpSink(httpSinkSchema.parse({ type: "http", url: "https://logs.example/in", compression: "gzip" }), ctx);
 */
export function createHttpSink(config: HttpSinkConfig, ctx: ComponentContext): Sink {
  const agents = createSinkAgents(config.maxInFlight, config.tls);
  const encoder = createHttpEncoder(config.encoding);
  return new BatchedSink(config, ctx, {
    type: "http",
    onClose: () => agents.destroy(),
    // Encoded when the batch is cut: only its bytes wait in the queue and through retries.
    encoding: {
      encode: (events) => encoder.encodeWithSpans(events),
      send: async (batch, indexes, signal) => {
        const body = indexes ? encoder.encodeSome(batch, indexes) : batch.body;
        const response = await sendHttp(
          {
            ...config,
            body,
            contentType: encoder.contentType,
            signal,
            now: ctx.now,
            onBodyDone: indexes ? () => encoder.recycle(body) : undefined,
          },
          agents,
        );
        return outcomeOfResponse(response);
      },
      release: (batch) => encoder.release(batch),
    },
  });
}

export const httpSink = defineComponent({
  type: "http",
  schema: httpSinkSchema,
  build: (config, ctx) => createHttpSink(config, ctx),
});
