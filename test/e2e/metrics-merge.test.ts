import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { test } from "node:test";
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type RegistryContentType,
  Summary,
} from "prom-client";
import { parseExposition } from "../../src/runtime/telemetry/exposition/parse-exposition.ts";
import { requireTool } from "../helpers/require-tool.ts";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "../helpers/sidecar-process.ts";

/** The same app metrics in two registries: prom-client renders a registry in one format only. */
function appRegistry(
  contentType: typeof Registry.PROMETHEUS_CONTENT_TYPE | typeof Registry.OPENMETRICS_CONTENT_TYPE,
) {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType);
  const registers = [registry];
  new Counter({
    name: "shop_orders_total",
    help: "Orders placed.",
    labelNames: ["method"],
    registers,
  }).inc({ method: "card" }, 7);
  new Gauge({ name: "shop_queue_depth", help: "Orders waiting.", registers }).set(3);
  const h = new Histogram({
    name: "shop_request_duration_seconds",
    help: "Request time.",
    labelNames: ["route"],
    buckets: [0.1, 0.5, 1],
    registers,
  });
  h.observe({ route: "/buy" }, 0.2);
  h.observe({ route: "/buy" }, 3);
  new Summary({
    name: "shop_payload_size_bytes",
    help: "Payload size.",
    percentiles: [0.5, 0.99],
    registers,
  }).observe(512);
  return registry;
}

/** A strict OpenMetrics parser from another implementation: Prometheus' Python client. */
function checkOpenMetrics(body: string): void {
  const script =
    "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families\nprint(len(list(text_string_to_metric_families(sys.stdin.read()))))";
  const run = spawnSync("/usr/bin/python3", ["-c", script], { input: body, encoding: "utf8" });
  if (/ModuleNotFoundError/.test(run.stderr))
    throw new Error(
      'This test needs python3-prometheus-client: run "bash scripts/install-system-deps.sh"',
    );
  assert.equal(run.status, 0, `the OpenMetrics parser rejected the output:\n${run.stderr}`);
}

function promtoolCheck(promtool: string, body: string): void {
  const check = spawnSync(promtool, ["check", "metrics"], { input: body, encoding: "utf8" });
  assert.equal(check.status, 0, `promtool reported problems:\n${check.stdout}${check.stderr}`);
  assert.equal(`${check.stdout}${check.stderr}`.trim(), "");
}

/**
 * promtool (2.42) checks the OpenMetrics output too, read as it reads everything, as the text
 * format: there an OpenMetrics counter `x` (samples `x_total`, `x_created`) looks like families
 * `x_total` and `x_created` without help. That one finding, which it also makes on the Python client's own OpenMetrics
 * output (checked first), is the only one allowed.
 */
function promtoolCheckOpenMetrics(promtool: string, body: string): void {
  const findings = (input: string) => {
    const check = spawnSync(promtool, ["check", "metrics"], { input, encoding: "utf8" });
    return `${check.stdout}${check.stderr}`.split("\n").filter(Boolean);
  };
  const reference = spawnSync(
    "/usr/bin/python3",
    [
      "-c",
      "import sys\nfrom prometheus_client import CollectorRegistry, Counter\nfrom prometheus_client.openmetrics.exposition import generate_latest\nr = CollectorRegistry()\nCounter('reference_requests', 'Requests.', registry=r).inc()\nsys.stdout.write(generate_latest(r).decode())",
    ],
    { encoding: "utf8" },
  );
  assert.equal(reference.status, 0, reference.stderr);
  assert.deepEqual(findings(reference.stdout), [
    "reference_requests_created no help text",
    "reference_requests_total no help text",
  ]);
  const counters = new Set([...body.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]));
  const other = findings(body).filter((line) => {
    const name = /^(\S+)_(total|created) no help text$/.exec(line)?.[1];
    return name === undefined || !counters.has(name);
  });
  assert.deepEqual(other, [], "promtool findings on the OpenMetrics output");
}

const openMetricsAccept =
  "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3";

test("sidecar metrics merges a real app's metrics: promtool and an OpenMetrics parser accept both outputs; the app down still scrapes", async () => {
  const promtool = requireTool("promtool");
  const text = appRegistry(Registry.PROMETHEUS_CONTENT_TYPE);
  const om = appRegistry(Registry.OPENMETRICS_CONTENT_TYPE);
  let serves: "text" | "openmetrics" = "text";
  const app = createServer(async (req, res) => {
    assert.match(req.headers.accept ?? "", /openmetrics/);
    const registry = serves === "openmetrics" ? om : text;
    res.setHeader("content-type", registry.contentType);
    res.end(await registry.metrics());
  });
  app.listen(0, "127.0.0.1");
  await once(app, "listening");
  const appPort = (app.address() as { port: number }).port;
  const adminPort = await freePort();
  const { path: dir, cleanup } = await tempDir();
  const config = await writeConfig(
    dir,
    `metrics:\n  url: http://127.0.0.1:${appPort}/metrics\n  cacheSeconds: 0\n  labels: { cluster: eu-1 }\n`,
  );
  const sidecar = startSidecar([
    "metrics",
    "-c",
    config,
    "--admin-address",
    `127.0.0.1:${adminPort}`,
  ]);
  try {
    await sidecar.waitFor('"msg":"sidecar ready to serve"');
    const url = `http://127.0.0.1:${adminPort}/metrics`;
    for (const format of ["text", "openmetrics"] as const) {
      serves = format;
      const asText = await httpGet(url);
      assert.match(asText.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      promtoolCheck(promtool, asText.body);
      const families = new Map(parseExposition(asText.body).map((f) => [f.name, f]));
      assert.equal(families.get("shop_orders_total")?.samples[0]?.labels.cluster, "eu-1");
      assert.equal(families.get("shop_request_duration_seconds")?.type, "histogram");
      assert.equal(families.get("shop_payload_size_bytes")?.type, "summary");
      assert.equal(families.get("sidecar_app_scrape_up")?.samples[0]?.value, 1);
      const asOpenMetrics = await httpGet(url, { headers: { accept: openMetricsAccept } });
      assert.match(
        asOpenMetrics.headers.get("content-type") ?? "",
        /^application\/openmetrics-text/,
      );
      checkOpenMetrics(asOpenMetrics.body);
      promtoolCheckOpenMetrics(promtool, asOpenMetrics.body);
      assert.ok(parseExposition(asOpenMetrics.body).some((f) => f.name === "shop_orders_total"));
    }
    app.closeAllConnections();
    app.close();
    await once(app, "close");
    const down = await httpGet(url);
    promtoolCheck(promtool, down.body);
    assert.match(down.body, /^sidecar_app_scrape_up 0$/m);
    assert.match(down.body, /^sidecar_app_scrape_errors_total\{reason="connect"\} 1$/m);
    assert.doesNotMatch(down.body, /^shop_/m);
  } finally {
    if (app.listening) {
      app.closeAllConnections();
      app.close();
    }
    await sidecar.stop();
    await cleanup();
  }
});
