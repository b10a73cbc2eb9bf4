import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { Sink } from "../../log-event.ts";
import { BatchedSink } from "../service/batched-sink.ts";
import {
  createSinkAgents,
  endpointUrl,
  httpShape,
  httpUrlSchema,
  outcomeOfResponse,
  sendHttp,
} from "../service/http-request.ts";
import { encodeBatch } from "../service/send-outcome.ts";
import { serviceConfigShape } from "../service/service-config.ts";
import { encodeBulk, outcomeOfBulk } from "./encoder.ts";

export const elasticsearchSinkSchema = z.strictObject({
  type: z.literal("elasticsearch"),
  /** The cluster's base URL, e.g. `http://elasticsearch:9200` (`/_bulk` is added). */
  url: httpUrlSchema,
  /** Index or data stream; `%Y`, `%m`, `%d` take the event's date (UTC). */
  index: z.string().min(1).default("logs-sidecar-default"),
  /** `create` (data streams accept only this) or `index`. */
  action: z.enum(["create", "index"]).default("create"),
  /**
   * Give each document an id made from its position and content, so lines read again after a
   * crash are not stored twice (a 409 on `create` then counts as delivered). Two identical lines
   * with the same time read while a CRI/multiline parser held an earlier line share a position
   * and would be stored once: hence off by default.
   */
  idempotentIds: z.boolean().default(false),
  ...httpShape,
  ...serviceConfigShape(),
});
export type ElasticsearchSinkConfig = z.infer<typeof elasticsearchSinkSchema>;

/**
 * Elasticsearch/OpenSearch `_bulk` (NDJSON). On a partly failed bulk response only the failed
 * retryable items (429, 5xx) are sent again; permanently bad ones are dead-lettered.
 *
 * @example
 * createElasticsearchSink(elasticsearchSinkSchema.parse({ type: "elasticsearch", url: "http://es:9200" }), ctx);
 */
export function createElasticsearchSink(
  config: ElasticsearchSinkConfig,
  ctx: ComponentContext,
): Sink {
  const url = endpointUrl(config.url, "_bulk");
  const agents = createSinkAgents(config.maxInFlight, config.tls);
  return new BatchedSink(config, ctx, {
    type: "elasticsearch",
    onClose: () => agents.destroy(),
    send: async (events, signal) => {
      const body = encodeBatch(() =>
        encodeBulk(events, config.index, config.action, config.idempotentIds),
      );
      const response = await sendHttp(
        {
          ...config,
          url,
          body,
          contentType: "application/x-ndjson",
          signal,
          now: ctx.now,
        },
        agents,
      );
      if (response.status < 200 || response.status >= 300) return outcomeOfResponse(response);
      return outcomeOfBulk(
        response.text,
        events.length,
        config.idempotentIds && config.action === "create",
      );
    },
  });
}

export const elasticsearchSink = defineComponent({
  type: "elasticsearch",
  schema: elasticsearchSinkSchema,
  build: (config, ctx) => createElasticsearchSink(config, ctx),
});
