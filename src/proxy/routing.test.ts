import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  loadConfigFile as loadAnyConfigFile,
  parseConfigText as parseAnyConfigText,
} from "../runtime/config/load-config.ts";
import { composeConfigSchema } from "../runtime/config/schema.ts";
import type { ProxyConfig } from "./proxy-config.ts";
import { proxyRoleDefinition } from "./role-definition.ts";

// The config file with the proxy's section, as the CLI composes it.
const schema = await composeConfigSchema([proxyRoleDefinition]);
type WithProxy = { config: { proxy?: ProxyConfig } };
const parseConfigText = (text: string, source: string) =>
  parseAnyConfigText(text, source, { schema }) as unknown as WithProxy;
const loadConfigFile = async (path: string | undefined, options = {}) =>
  (await loadAnyConfigFile(path, { schema, ...options })) as unknown as WithProxy;

import { routeSchema } from "./proxy-config.ts";
import { RouteTable } from "./route-table.ts";
import {
  header,
  httpUpstream,
  rawRequest,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";

const table = (routes: unknown[]) => new RouteTable(routes.map((r) => routeSchema.parse(r)));
const req = (
  path: string,
  extra: Partial<{ method: string; host: string; headers: Record<string, string> }> = {},
) => ({
  method: extra.method ?? "GET",
  path,
  host: extra.host ?? "svc",
  headers: extra.headers ?? {},
});

test("routes match by prefix, exact path, regex, host, method and headers; first match wins", () => {
  const t = table([
    { name: "exact", match: { path: "/exact" }, cluster: "a" },
    { name: "regex", match: { regex: "/users/[0-9]+" }, cluster: "a" },
    { name: "host", match: { host: "*.example.com" }, cluster: "a" },
    { name: "method", match: { prefix: "/m", methods: ["POST"] }, cluster: "a" },
    {
      name: "header",
      match: { prefix: "/h", headers: [{ name: "X-Canary", exact: "1" }] },
      cluster: "a",
    },
    {
      name: "absent",
      match: { prefix: "/h", headers: [{ name: "x-canary", present: false }] },
      cluster: "a",
    },
    { name: "api", match: { prefix: "/api" }, cluster: "a" },
  ]);
  assert.equal(t.match(req("/exact"))?.name, "exact");
  assert.equal(t.match(req("/exact/more")), undefined);
  assert.equal(t.match(req("/users/42"))?.name, "regex");
  assert.equal(t.match(req("/users/42x")), undefined);
  assert.equal(t.match(req("/x", { host: "shop.example.com" }))?.name, "host");
  assert.equal(t.match(req("/x", { host: "example.com" })), undefined);
  assert.equal(t.match(req("/m", { method: "POST" }))?.name, "method");
  assert.equal(t.match(req("/m")), undefined);
  assert.equal(t.match(req("/h", { headers: { "x-canary": "1" } }))?.name, "header");
  assert.equal(t.match(req("/h", { headers: { "x-canary": "2" } })), undefined);
  assert.equal(t.match(req("/h"))?.name, "absent");
  assert.equal(t.match(req("/api/v1"))?.name, "api");
});

describe("routing and the egress listener through the proxy", () => {
  let a: Upstream;
  let b: Upstream;
  let proxy: TestProxy;
  const logPath = join(tmpdir(), `sidecar-access-${process.pid}-${Date.now()}.log`);
  before(async () => {
    a = await httpUpstream((req, res) => res.end(`a ${req.headers.host} ${req.url}`));
    b = await httpUpstream((req, res) => res.end(`b ${req.headers.host} ${req.url}`));
    proxy = await startProxy({
      listeners: [
        {
          name: "ingress",
          address: "127.0.0.1:0",
          routes: [
            { name: "api", match: { prefix: "/api/" }, cluster: "b" },
            { name: "exact", match: { path: "/" }, cluster: "a" },
          ],
        },
        {
          name: "egress",
          address: "127.0.0.1:0",
          routes: [
            { name: "orders", match: { host: "orders" }, cluster: "a" },
            { name: "billing", match: { host: "billing.default.svc" }, cluster: "b" },
          ],
        },
      ],
      clusters: {
        a: { endpoints: [`127.0.0.1:${a.port}`] },
        b: { endpoints: [`127.0.0.1:${b.port}`] },
      },
      accessLog: { path: logPath, excludePaths: ["/healthz"] },
    });
  });
  after(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
    await rm(logPath, { force: true });
  });

  test("sends each route to its cluster; no match → 404 NR", async () => {
    const api = await rawRequest(
      proxy.port,
      "GET /api/x?q=1 HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    assert.equal(api.body.toString(), "b svc /api/x?q=1");
    const root = await rawRequest(
      proxy.port,
      "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    assert.equal(root.body.toString(), "a svc /");
    const none = await rawRequest(
      proxy.port,
      "GET /nope HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    assert.equal(none.status, 404);
    assert.equal(header(none, "x-sidecar-error"), "NR");
    assert.equal(JSON.parse(none.body.toString()).code, "SIDECAR_ERR_PROXY_NO_ROUTE");
  });

  test("the egress listener routes by Host, also for absolute-form targets", async () => {
    const byHost = await rawRequest(
      proxy.ports[1]!,
      "GET /o HTTP/1.1\r\nHost: orders:80\r\nConnection: close\r\n\r\n",
    );
    assert.equal(byHost.body.toString(), "a orders:80 /o");
    const absolute = await rawRequest(
      proxy.ports[1]!,
      "GET http://billing.default.svc/pay?x=1 HTTP/1.1\r\nHost: billing.default.svc\r\nConnection: close\r\n\r\n",
    );
    assert.equal(absolute.body.toString(), "b billing.default.svc /pay?x=1");
    const unknown = await rawRequest(
      proxy.ports[1]!,
      "GET / HTTP/1.1\r\nHost: else\r\nConnection: close\r\n\r\n",
    );
    assert.equal(unknown.status, 404);
  });

  test("writes one JSON access log line per request with Envoy's fields, skipping excluded paths", async () => {
    await rawRequest(
      proxy.port,
      "GET /api/logged HTTP/1.1\r\nHost: svc\r\nUser-Agent: ua/1\r\nX-Request-Id: log-1\r\nConnection: close\r\n\r\n",
    );
    await rawRequest(proxy.port, "GET /healthz HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
    await rawRequest(
      proxy.port,
      "GET /nope HTTP/1.1\r\nHost: svc\r\nX-Request-Id: log-2\r\nConnection: close\r\n\r\n",
    );
    let lines: Record<string, unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const text = await readFile(logPath, "utf8").catch(() => "");
      lines = text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      if (lines.some((l) => l.request_id === "log-2")) break;
      // The log is buffered; a stop flushes it, but the test only waits.
      if (i === 20) break;
    }
    if (!lines.some((l) => l.request_id === "log-2")) {
      await proxy.stop();
      lines = (await readFile(logPath, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    }
    const ok = lines.find((l) => l.request_id === "log-1")!;
    assert.equal(ok.method, "GET");
    assert.equal(ok.path, "/api/logged");
    assert.equal(ok.protocol, "HTTP/1.1");
    assert.equal(ok.status, 200);
    assert.equal(ok.response_flags, "-");
    assert.equal(ok.user_agent, "ua/1");
    assert.equal(ok.upstream_cluster, "b");
    assert.equal(ok.upstream_host, `127.0.0.1:${b.port}`);
    assert.equal(ok.client_address, "127.0.0.1");
    assert.equal(typeof ok.duration_ms, "number");
    assert.equal(typeof ok.bytes_sent, "number");
    assert.ok(!lines.some((l) => l.path === "/healthz"));
    const nr = lines.find((l) => l.request_id === "log-2")!;
    assert.equal(nr.status, 404);
    assert.equal(nr.response_flags, "NR");
  });
});

test("metrics: sidecar_proxy_* with bounded labels", async () => {
  const upstream = await httpUpstream((_req, res) => res.end("ok"));
  const proxy = await startProxy({ upstreamPort: upstream.port });
  try {
    await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
    await rawRequest(
      proxy.port,
      "FOOBAR / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    ).catch(() => {});
    const text = await proxy.registry.metrics();
    assert.match(
      text,
      /sidecar_proxy_requests_total\{listener="ingress",route="route0",cluster="app",method="GET",status_class="2xx"\} 1/,
    );
    assert.match(
      text,
      /sidecar_proxy_request_duration_seconds_bucket\{le="0\.0005",listener="ingress"/,
    );
    for (const name of [
      "sidecar_proxy_upstream_retries_total",
      "sidecar_proxy_upstream_timeouts_total",
      "sidecar_proxy_outlier_ejections_total",
      "sidecar_proxy_overflow_total",
      "sidecar_proxy_rate_limited_total",
      "sidecar_proxy_active_requests",
      "sidecar_proxy_active_connections",
      "sidecar_proxy_received_bytes_total",
      "sidecar_proxy_sent_bytes_total",
    ])
      assert.ok(text.includes(`# TYPE ${name}`), name);
    assert.ok(!text.includes('method="FOOBAR"'));
  } finally {
    await proxy.stop();
    await upstream.close();
  }
});

test("bad proxy config is refused with path-specific messages", () => {
  assert.throws(
    () =>
      parseConfigText(
        [
          "proxy:",
          "  listeners:",
          "    - address: 127.0.0.1:8081",
          "      routes:",
          "        - cluster: nope",
          "          timeoutSecs: 3",
          "  clusters:",
          "    app:",
          "      endpoints: [127.0.0.1:8080]",
          "      lbPolicy: fastest",
        ].join("\n"),
        "sidecar.yaml",
      ),
    (error: Error & { details: string[] }) => {
      const text = error.details.join("\n");
      assert.match(
        text,
        /proxy\.listeners\[0\]\.routes\[0\]\.timeoutSecs: unknown key, did you mean "timeoutSeconds"/,
      );
      assert.match(text, /proxy\.clusters\.app\.lbPolicy: expected one of/);
      return true;
    },
  );
});

test("a route naming an undeclared cluster is refused by path", () => {
  assert.throws(
    () =>
      parseConfigText(
        "proxy:\n  listeners:\n    - address: 127.0.0.1:8081\n      routes: [{ cluster: nope }]\n  clusters:\n    app: { endpoints: ['127.0.0.1:8080'] }\n",
        "sidecar.yaml",
      ),
    (error: Error & { details: string[] }) => {
      assert.match(
        error.details.join("\n"),
        /proxy\.listeners\[0\]\.routes\[0\]\.cluster: unknown cluster "nope"; declared: app/,
      );
      return true;
    },
  );
});

test("a minimal proxy section loads with Envoy-like defaults", async () => {
  const { config } = await loadConfigFile(undefined, {
    overlay: {
      proxy: {
        listeners: [{ address: "0.0.0.0:8081", routes: [{ cluster: "app" }] }],
        clusters: { app: { endpoints: ["127.0.0.1:8080"] } },
      },
    },
  });
  const route = config.proxy!.listeners[0]!.routes[0]!;
  assert.equal(route.timeoutSeconds, 15);
  assert.equal(config.proxy!.clusters.app!.connectTimeoutSeconds, 5);
  assert.equal(config.proxy!.clusters.app!.maxRequests, 1024);
  assert.equal(route.retries.backoffBaseSeconds, 0.025);
});

test("examples/proxy/sidecar.yaml is valid", async () => {
  const path = new URL("../../examples/proxy/sidecar.yaml", import.meta.url).pathname;
  const { config } = await loadConfigFile(path);
  assert.equal(config.proxy!.listeners.length, 2);
  assert.equal(config.proxy!.clusters.orders!.type, "dns");
});
