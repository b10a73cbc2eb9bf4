import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import { ProxyErrorCodes } from "../../error-codes.ts";
import type { FilterBuildContext, FilterContext, ProxyFilter } from "../filter.ts";
import { RateLimiter } from "./rate-limiter.ts";

export const tokenBucketSchema = z.strictObject({
  requestsPerSecond: z.number().positive({ error: "expected a number > 0" }),
  /** Bucket size; defaults to one second's worth. */
  burst: z.number().int().positive().optional(),
});

/** The limits of `rateLimit` (the listener's older form) and of the filter alike. */
export const rateLimitFields = {
  /** One bucket for every request through this listener or route. */
  global: tokenBucketSchema.optional(),
  /** One bucket per client address (as the listener's clientAddress resolver finds it). */
  perClient: tokenBucketSchema.optional(),
};

export const rateLimitSchema = z
  .strictObject({
    type: z.literal("rate-limit"),
    ...rateLimitFields,
    /** Per-client buckets kept (least recently used forgotten first). */
    maxClients: z.number().int().positive().default(10_000),
  })
  .refine((c) => c.global !== undefined || c.perClient !== undefined, {
    error: "expected global, perClient or both",
  });
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;

/**
 * Local token buckets → 429 with flag RL and Retry-After (Envoy's local_ratelimit), counted in
 * `sidecar_proxy_rate_limited_total`.
 */
export function rateLimit(config: RateLimitConfig, ctx: FilterBuildContext): ProxyFilter {
  const limiter = new RateLimiter({ ...config, now: ctx.now });
  const labels = { listener: ctx.listener };
  const message =
    ctx.route === undefined
      ? `Rate limit of listener "${ctx.listener}" exceeded`
      : `Rate limit of route "${ctx.route}" exceeded`;
  return {
    type: "rate-limit",
    onRequest: function rateLimitRequest(request: FilterContext) {
      const wait = limiter.check(request.clientAddress);
      if (wait === 0) return undefined;
      ctx.metrics.rateLimited.inc(labels);
      return {
        status: 429,
        code: ProxyErrorCodes.RATE_LIMITED,
        flag: "RL",
        message,
        retryAfterSeconds: wait,
      };
    },
  };
}

export const rateLimitFilter = defineComponent({
  type: "rate-limit",
  schema: rateLimitSchema,
  build: rateLimit,
});
