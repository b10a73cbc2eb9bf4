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
import { encodeBatch } from "../service/send-outcome.ts";
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
    send: async (events, signal) => {
      const { body, contentType } = encodeBatch(() => encoder.encode(events));
      const response = await sendHttp(
        {
          ...config,
          body,
          contentType,
          signal,
          now: ctx.now,
          onBodyDone: () => encoder.recycle(body),
        },
        agents,
      );
      return outcomeOfResponse(response);
    },
  });
}

export const httpSink = defineComponent({
  type: "http",
  schema: httpSinkSchema,
  build: (config, ctx) => createHttpSink(config, ctx),
});
