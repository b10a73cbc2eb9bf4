import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { clusterSchema } from "../proxy-config.ts";
import { httpUpstream, rawRequest, startProxy } from "../testing.ts";
import { Cluster } from "./cluster.ts";

const logger = pino({ level: "silent" });
const get = (port: number) =>
  rawRequest(port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");

test("round robin through the proxy spreads requests evenly over three upstreams", async () => {
  const hits = [0, 0, 0];
  const upstreams = await Promise.all(
    hits.map((_, i) =>
      httpUpstream((_req, res) => {
        hits[i]! += 1;
        res.end("ok");
      }),
    ),
  );
  const proxy = await startProxy({
    clusters: {
      app: { endpoints: upstreams.map((u) => `127.0.0.1:${u.port}`), lbPolicy: "round_robin" },
    },
  });
  try {
    for (let i = 0; i < 30; i++) assert.equal((await get(proxy.port)).status, 200);
    assert.deepEqual(hits, [10, 10, 10]);
  } finally {
    await proxy.stop();
    for (const u of upstreams) await u.close();
  }
});

test("an endpoint returning 5xx is ejected, traffic moves to the healthy one, and it recovers", async () => {
  let failing = true;
  const bad = { hits: 0 };
  const good = { hits: 0 };
  const badUp = await httpUpstream((_req, res) => {
    bad.hits += 1;
    res.writeHead(failing ? 500 : 200).end("bad");
  });
  const goodUp = await httpUpstream((_req, res) => {
    good.hits += 1;
    res.end("good");
  });
  const proxy = await startProxy({
    clusters: {
      app: {
        endpoints: [`127.0.0.1:${badUp.port}`, `127.0.0.1:${goodUp.port}`],
        lbPolicy: "round_robin",
        outlierDetection: {
          consecutiveFailures: 2,
          baseEjectionSeconds: 0.5,
          maxEjectionPercent: 50,
        },
      },
    },
  });
  try {
    for (let i = 0; i < 4; i++) await get(proxy.port);
    assert.equal(bad.hits, 2, "ejected after 2 failures");
    const badBefore = bad.hits;
    for (let i = 0; i < 6; i++) assert.equal((await get(proxy.port)).status, 200);
    assert.equal(bad.hits, badBefore, "no traffic while ejected");
    const metrics = await proxy.registry.getSingleMetricAsString(
      "sidecar_proxy_outlier_ejections_total",
    );
    assert.match(metrics, /cluster="app"\} 1/);
    failing = false;
    // Back in rotation once the ejection time is over (polled, bounded: no timing assertion).
    for (let i = 0; i < 200 && bad.hits === badBefore; i++) {
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await get(proxy.port)).status, 200);
    }
    assert.ok(bad.hits > badBefore, "back in rotation after the ejection time");
  } finally {
    await proxy.stop();
    await badUp.close();
    await goodUp.close();
  }
});

test("active health checks take a failing endpoint out and put it back; none left → 503 UH", async () => {
  let healthy = false;
  const upstream = await httpUpstream((req, res) => {
    if (req.url === "/healthz") res.writeHead(healthy ? 200 : 503).end();
    else res.end("app");
  });
  const proxy = await startProxy({
    clusters: {
      app: {
        endpoints: [`127.0.0.1:${upstream.port}`],
        healthCheck: { intervalSeconds: 0.1, unhealthyThreshold: 1, healthyThreshold: 1 },
      },
    },
  });
  try {
    let res = await get(proxy.port);
    for (let i = 0; i < 100 && res.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await get(proxy.port);
    }
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.body.toString()).code, "SIDECAR_ERR_PROXY_NO_HEALTHY_UPSTREAM");
    healthy = true;
    for (let i = 0; i < 100 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await get(proxy.port);
    }
    assert.equal(res.status, 200);
  } finally {
    await proxy.stop();
    await upstream.close();
  }
});

test("a dns cluster re-resolves: new addresses become endpoints, gone ones are dropped", async () => {
  let answer = ["127.0.0.1", "127.0.0.2"];
  const cluster = new Cluster(
    "svc",
    clusterSchema.parse({
      type: "dns",
      endpoints: ["orders.default.svc:8080"],
      dnsRefreshSeconds: 60,
    }),
    { logger, resolve: async () => answer },
  );
  try {
    await cluster.start();
    assert.deepEqual(
      cluster.endpoints.map((e) => e.address),
      ["127.0.0.1:8080", "127.0.0.2:8080"],
    );
    const kept = cluster.endpoints[1];
    answer = ["127.0.0.2", "127.0.0.3"];
    await cluster.refreshDns();
    assert.deepEqual(
      cluster.endpoints.map((e) => e.address),
      ["127.0.0.2:8080", "127.0.0.3:8080"],
    );
    assert.equal(cluster.endpoints[0], kept, "a kept address keeps its pool and state");
    answer = [];
    await cluster.refreshDns();
    assert.equal(cluster.pick(), undefined);
  } finally {
    cluster.close();
  }
});

test("a failing DNS lookup keeps the last endpoints", async () => {
  let fail = false;
  const cluster = new Cluster(
    "svc",
    clusterSchema.parse({ type: "dns", endpoints: ["x.invalid:80"] }),
    {
      logger,
      resolve: async () => {
        if (fail) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
        return ["127.0.0.9"];
      },
    },
  );
  try {
    await cluster.start();
    fail = true;
    await cluster.refreshDns();
    assert.deepEqual(
      cluster.endpoints.map((e) => e.address),
      ["127.0.0.9:80"],
    );
  } finally {
    cluster.close();
  }
});

test("a dns cluster resolving localhost proxies through the real resolver", async () => {
  const upstream = await httpUpstream((_req, res) => res.end("via dns"));
  const proxy = await startProxy({
    clusters: { app: { type: "dns", endpoints: [`localhost:${upstream.port}`] } },
  });
  try {
    const addresses = proxy.role.clusters.get("app")!.endpoints.map((e) => e.address);
    assert.ok(addresses.includes(`127.0.0.1:${upstream.port}`), addresses.join(","));
    // If localhost also resolves to ::1 (not listened on), the retry goes to the other endpoint.
    for (let i = 0; i < 3; i++) assert.equal((await get(proxy.port)).body.toString(), "via dns");
  } finally {
    await proxy.stop();
    await upstream.close();
  }
});
