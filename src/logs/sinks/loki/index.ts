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
import { LokiEncoder } from "./encoder.ts";

const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: "expected a Prometheus label name" });

export const lokiSinkSchema = z.strictObject({
  type: z.literal("loki"),
  /** Loki's base URL, e.g. `http://loki:3100` (`/loki/api/v1/push` is added). */
  url: httpUrlSchema,
  /** Sent as `X-Scope-OrgID` for multi-tenant Loki. */
  tenantId: z.string().min(1).optional(),
  /** Label → field it is read from (`level`, `source` or a field path). Keep these low-cardinality. */
  labels: z.record(labelName, z.string().min(1)).default({ level: "level" }),
  staticLabels: z.record(labelName, z.string()).default({ job: "sidecar" }),
  /** Distinct values per label before new ones become `overflowValue` (bounded cardinality). */
  maxLabelValues: z.number().int().min(1).default(100),
  overflowValue: z.string().default("__overflow__"),
  /** Each entry's line: the event as JSON, or the message only. */
  line: z.enum(["json", "message"]).default("json"),
  ...httpShape,
  ...serviceConfigShape(),
});
export type LokiSinkConfig = z.infer<typeof lokiSinkSchema>;

/**
 * Pushes to Grafana Loki's push API (JSON). Labels come from fields, bounded per label; entries
 * are sorted per stream; 429 and 5xx are retried, other 4xx (e.g. entries too old) dead-lettered.
 *
 * @example
 * createLokiSink(lokiSinkSchema.parse({ type: "loki", url: "http://loki:3100", tenantId: "team-a" }), ctx);
 */
export function createLokiSink(config: LokiSinkConfig, ctx: ComponentContext): Sink {
  const encoder = new LokiEncoder({
    ...config,
    onOverflow: (label) =>
      ctx.logger.warn(
        { label, maxLabelValues: config.maxLabelValues },
        `Loki label "${label}" has too many values: new ones are sent as "${config.overflowValue}"`,
      ),
  });
  const url = endpointUrl(config.url, "loki/api/v1/push");
  const headers = config.tenantId
    ? { ...config.headers, "X-Scope-OrgID": config.tenantId }
    : config.headers;
  const agents = createSinkAgents(config.maxInFlight, config.tls);
  return new BatchedSink(config, ctx, {
    type: "loki",
    onClose: () => agents.destroy(),
    send: async (events, signal) => {
      const body = encodeBatch(() => JSON.stringify(encoder.encode(events)));
      const response = await sendHttp(
        {
          ...config,
          url,
          headers,
          body,
          contentType: "application/json",
          signal,
          now: ctx.now,
        },
        agents,
      );
      return outcomeOfResponse(response);
    },
  });
}

export const lokiSink = defineComponent({
  type: "loki",
  schema: lokiSinkSchema,
  build: (config, ctx) => createLokiSink(config, ctx),
});
