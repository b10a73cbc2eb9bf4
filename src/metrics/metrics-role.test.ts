import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { test } from "node:test";
import { Counter, Histogram, Registry, type RegistryContentType, Summary } from "prom-client";
import { AdminServer } from "../runtime/admin/admin-server.ts";
import { systemClock } from "../runtime/clock.ts";
import { parseExposition } from "../runtime/telemetry/exposition/parse-exposition.ts";
import { createSidecarRegistry } from "../runtime/telemetry/metrics-registry.ts";
import { testRoleContext } from "../runtime/testing.ts";
import { metricsConfigSchema } from "./metrics-config.ts";
import { createMetricsRole } from "./metrics-role.ts";

/** The app's own metrics, as a prom-client app would have them. */
function appRegistry(): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  new Counter({
    name: "shop_orders_total",
    help: "Orders placed.",
    labelNames: ["pod"],
    registers: [registry],
  }).inc({ pod: "app-said" }, 7);
  const h = new Histogram({
    name: "shop_request_seconds",
    help: "Request time.",
    buckets: [0.1, 1],
    registers: [registry],
  });
  h.observe(0.05);
  h.observe(2);
  new Summary({
    name: "shop_payload_bytes",
    help: "Payload size.",
    percentiles: [0.5, 0.9],
    registers: [registry],
  }).observe(512);
  // The same name as one of the sidecar's own families: the sidecar's wins.
  new Counter({ name: "sidecar_uptime_seconds", help: "Not really.", registers: [registry] }).inc();
  return registry;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

async function withApp(handler: Handler, run: (url: string) => Promise<void>): Promise<void> {
  const server: Server = createServer((req, res) => void handler(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  try {
    await run(`http://127.0.0.1:${port}/metrics`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** A metrics role behind a real admin server; `scrape` GETs its /metrics. */
async function withSidecar(
  config: Record<string, unknown>,
  run: (
    scrape: (accept?: string) => Promise<{ type: string; body: string }>,
    ctx: ReturnType<typeof testRoleContext>,
  ) => Promise<void>,
): Promise<void> {
  const metrics = createSidecarRegistry({ version: "1.0.0", processMetrics: false });
  const ctx = testRoleContext({ registry: metrics.registry, clock: systemClock });
  const role = createMetricsRole(metricsConfigSchema.parse(config), ctx);
  const admin = new AdminServer({
    address: "127.0.0.1:0",
    registry: metrics.registry,
    logger: ctx.logger,
    readiness: () => ({ ready: true, draining: false, roles: [] }),
    status: () => ({}),
    onQuit: () => {},
    routes: ctx.routes,
  });
  await admin.start();
  await role.start();
  try {
    await run(async (accept) => {
      const res = await fetch(`http://127.0.0.1:${admin.address!.port}/metrics`, {
        headers: accept ? { accept } : {},
      });
      assert.equal(res.status, 200);
      return { type: res.headers.get("content-type") ?? "", body: await res.text() };
    }, ctx);
  } finally {
    await role.stop(AbortSignal.timeout(1000));
    await admin.stop(AbortSignal.timeout(1000));
  }
}

process.env.TEST_POD_NAME = "web-1";

const openMetricsAccept =
  "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

for (const appFormat of ["text", "openmetrics"] as const) {
  test(`merges the app's counters, histograms and summaries (app serves ${appFormat}), in both formats`, async () => {
    const registry = appRegistry();
    if (appFormat === "openmetrics") registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    await withApp(
      async (_req, res) => {
        res.setHeader("content-type", registry.contentType);
        res.end(await registry.metrics());
      },
      (url) =>
        withSidecar(
          {
            url,
            cacheSeconds: 0,
            labels: { cluster: "eu-1" },
            labelsFromEnv: { pod: "TEST_POD_NAME" },
          },
          async (scrape) => {
            const text = await scrape();
            assert.match(text.type, /^text\/plain; version=0\.0\.4/);
            const families = new Map(parseExposition(text.body).map((f) => [f.name, f]));
            assert.deepEqual(
              families.get("shop_orders_total")?.samples.map((s) => [s.labels, s.value]),
              [[{ exported_pod: "app-said", cluster: "eu-1", pod: "web-1" }, 7]],
            );
            assert.equal(families.get("shop_request_seconds")?.type, "histogram");
            assert.equal(families.get("shop_request_seconds")?.samples.length, 5);
            assert.equal(families.get("shop_payload_bytes")?.type, "summary");
            assert.equal(families.get("sidecar_app_scrape_up")?.samples[0]?.value, 1);
            assert.equal(
              families.get("sidecar_uptime_seconds")?.type,
              "gauge",
              "the sidecar's family, not the app's",
            );
            assert.equal(families.get("sidecar_app_scrape_clashes_total")?.samples[0]?.value, 1);
            const om = await scrape(openMetricsAccept);
            assert.match(om.type, /^application\/openmetrics-text; version=1\.0\.0/);
            const omFamilies = new Map(
              parseExposition(om.body, { format: "openmetrics" }).map((f) => [f.name, f]),
            );
            assert.equal(omFamilies.get("shop_orders_total")?.type, "counter");
            assert.equal(
              omFamilies.get("shop_request_seconds")?.samples.find((s) => s.labels.le === "+Inf")
                ?.value,
              2,
            );
          },
        ),
    );
  });
}

test("app down, slow, huge, malformed or too many series: the sidecar's own metrics are served, with up 0 and the reason counted", async () => {
  let mode = "down";
  const big = `${Array.from({ length: 200 }, (_, i) => `x_${i} 1`).join("\n")}\n`;
  await withApp(
    async (_req, res) => {
      if (mode === "slow") await new Promise((r) => setTimeout(r, 1500));
      if (mode === "malformed") return void res.end('# TYPE a gauge\na{b="c} 1\n');
      if (mode === "huge") return void res.end("y 1\n".repeat(2000));
      if (mode === "status") {
        res.statusCode = 503;
        return void res.end("busy");
      }
      res.end(big);
    },
    async (url) => {
      const down = url.replace(/:\d+\//, ":1/");
      for (const [m, target, reason] of [
        ["down", down, "connect"],
        ["slow", url, "timeout"],
        ["malformed", url, "malformed"],
        ["huge", url, "too_large"],
        ["status", url, "status"],
        ["many", url, "series_limit"],
      ] as const) {
        mode = m;
        await withSidecar(
          {
            url: target,
            cacheSeconds: 0,
            timeoutSeconds: 0.3,
            maxResponseBytes: 4096,
            maxSeries: 100,
          },
          async (scrape, ctx) => {
            const { body } = await scrape();
            const families = new Map(parseExposition(body).map((f) => [f.name, f]));
            assert.equal(families.get("sidecar_app_scrape_up")?.samples[0]?.value, 0, m);
            const errors = families.get("sidecar_app_scrape_errors_total")!.samples;
            assert.equal(
              errors.find((s) => s.labels.reason === reason)?.value,
              1,
              `${m}: ${reason}`,
            );
            assert.ok(families.has("sidecar_build_info"));
            assert.ok(!families.has("x_0") && !families.has("y"));
            assert.equal(
              ctx
                .logLines()
                .filter((l) => l.msg?.toString().startsWith("app metrics scrape failed")).length,
              1,
            );
          },
        );
      }
    },
  );
});

test("concurrent scrapes share one app request; the cache answers within cacheSeconds", async () => {
  let requests = 0;
  await withApp(
    async (_req, res) => {
      requests++;
      await new Promise((r) => setTimeout(r, 100));
      res.end("# TYPE hits counter\nhits 1\n");
    },
    (url) =>
      withSidecar({ url, cacheSeconds: 60 }, async (scrape) => {
        const bodies = await Promise.all([scrape(), scrape(), scrape()]);
        for (const { body } of bodies) assert.match(body, /^hits 1$/m);
        await scrape();
        assert.equal(requests, 1);
      }),
  );
});

test("keep and drop select app families by name", async () => {
  await withApp(
    (_req, res) => void res.end("go_threads 5\nshop_a 1\nshop_b 2\n"),
    (url) =>
      withSidecar({ url, keep: ["^shop_", "^go_"], drop: ["^go_", "_b$"] }, async (scrape) => {
        const names = parseExposition((await scrape()).body).map((f) => f.name);
        assert.ok(names.includes("shop_a"));
        assert.ok(!names.includes("shop_b") && !names.includes("go_threads"));
      }),
  );
});

test("config: bad regex, label names and URLs are rejected", () => {
  for (const bad of [
    { url: "ftp://x/metrics" },
    { url: "http://127.0.0.1:1/metrics", keep: ["("] },
    { url: "http://127.0.0.1:1/metrics", labels: { "bad-name": "x" } },
    { url: "http://127.0.0.1:1/metrics", labels: { __name__: "x" } },
  ])
    assert.equal(metricsConfigSchema.safeParse(bad).success, false, JSON.stringify(bad));
});
