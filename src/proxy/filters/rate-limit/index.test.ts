import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import { listenerFilterConfigs } from "../../listener.ts";
import type { LocalReply } from "../../local-reply.ts";
import { listenerSchema } from "../../proxy-config.ts";
import { ProxyMetrics } from "../../proxy-metrics.ts";
import type { FilterContext } from "../filter.ts";
import { rateLimitFilter } from "./index.ts";
import { RateLimiter } from "./rate-limiter.ts";

function build(config: object, route?: string) {
  const registry = new Registry();
  let now = 0;
  const filter = rateLimitFilter.build(
    rateLimitFilter.schema.parse({ type: "rate-limit", ...config }),
    {
      listener: "ingress",
      route,
      logger: pino({ level: "silent" }) as Logger,
      metrics: new ProxyMetrics(registry),
      now: () => now,
    },
  );
  const from = (clientAddress: string) =>
    filter.onRequest({ clientAddress } as FilterContext) as LocalReply | undefined;
  return { filter, registry, from, tick: (ms: number) => (now += ms) };
}

test("per client: each resolved client address has its own bucket", () => {
  const { from } = build({ perClient: { requestsPerSecond: 1, burst: 2 } });
  assert.equal(from("203.0.113.9"), undefined);
  assert.equal(from("203.0.113.9"), undefined);
  const limited = from("203.0.113.9");
  assert.equal(limited?.status, 429);
  assert.equal(limited?.flag, "RL");
  assert.equal(limited?.code, "SIDECAR_ERR_PROXY_RATE_LIMITED");
  assert.equal(limited?.retryAfterSeconds, 1);
  assert.equal(from("198.51.100.4"), undefined);
});

test("a limited request is counted and named after the listener or route", async () => {
  const listener = build({ global: { requestsPerSecond: 1, burst: 1 } });
  listener.from("a");
  assert.match(String(listener.from("a")?.message), /listener "ingress"/);
  const metric = await listener.registry.getSingleMetricAsString(
    "sidecar_proxy_rate_limited_total",
  );
  assert.match(metric, /listener="ingress"} 1/);
  const route = build({ global: { requestsPerSecond: 1, burst: 1 } }, "api");
  route.from("a");
  assert.match(String(route.from("a")?.message), /route "api"/);
});

test("the bucket refills with time", () => {
  const { from, tick } = build({ global: { requestsPerSecond: 2, burst: 1 } });
  assert.equal(from("a"), undefined);
  assert.equal(from("a")?.status, 429);
  tick(500);
  assert.equal(from("a"), undefined);
});

test("per-client buckets are an LRU: a flood of addresses keeps at most maxClients", () => {
  let now = 0;
  const limiter = new RateLimiter({
    perClient: { requestsPerSecond: 0.001, burst: 1 },
    maxClients: 50,
    now: () => now,
  });
  assert.equal(limiter.check("busy"), 0);
  for (let i = 0; i < 10_000; i++) {
    limiter.check(`flood-${i}`);
    if (i % 10 === 0) assert.ok(limiter.check("busy") > 0, "a recently used bucket is kept");
    assert.ok(limiter.clients <= 50);
  }
  now += 1;
  assert.equal(limiter.clients, 50);
});

test("a rate-limit entry needs global or perClient; unknown keys are refused", () => {
  assert.throws(() => rateLimitFilter.schema.parse({ type: "rate-limit" }), /global, perClient/);
  assert.throws(() =>
    rateLimitFilter.schema.parse({ type: "rate-limit", global: { requestsPerSecond: 1 }, x: 1 }),
  );
});

test("the listener's rateLimit keys become the first entry of its chain", () => {
  const listener = listenerSchema.parse({
    address: "127.0.0.1:0",
    routes: [{ cluster: "app" }],
    rateLimit: { perClient: { requestsPerSecond: 5 } },
    filters: [{ type: "rate-limit", global: { requestsPerSecond: 100 } }],
  });
  assert.deepEqual(listenerFilterConfigs(listener), [
    { type: "rate-limit", perClient: { requestsPerSecond: 5 }, maxClients: 10_000 },
    { type: "rate-limit", global: { requestsPerSecond: 100 }, maxClients: 10_000 },
  ]);
  const without = listenerSchema.parse({ address: "127.0.0.1:0", routes: [{ cluster: "app" }] });
  assert.deepEqual(listenerFilterConfigs(without), []);
});
