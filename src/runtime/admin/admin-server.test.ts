import assert from "node:assert/strict";
import { test } from "node:test";
import type { Readiness } from "../supervisor.ts";
import { createSidecarRegistry } from "../telemetry/metrics-registry.ts";
import { captureLogger } from "../testing.ts";
import { AdminRouteTable, type MetricsSource } from "./admin-router.ts";
import { AdminServer } from "./admin-server.ts";

async function withAdmin(
  overrides: {
    readiness?: () => Readiness;
    isLocalClient?: (address: string | undefined) => boolean;
    routes?: AdminRouteTable;
  } = {},
  run: (base: string, quits: () => number) => Promise<void>,
): Promise<void> {
  let quits = 0;
  const metrics = createSidecarRegistry({ version: "9.9.9" });
  const admin = new AdminServer({
    address: "127.0.0.1:0",
    registry: metrics.registry,
    logger: captureLogger().logger,
    readiness: overrides.readiness ?? (() => ({ ready: true, draining: false, roles: [] })),
    status: () => ({ version: "9.9.9" }),
    onQuit: () => {
      quits++;
    },
    ...(overrides.isLocalClient ? { isLocalClient: overrides.isLocalClient } : {}),
    ...(overrides.routes ? { routes: overrides.routes } : {}),
  });
  await admin.start();
  try {
    await run(`http://127.0.0.1:${admin.address!.port}`, () => quits);
  } finally {
    await admin.stop(AbortSignal.timeout(2000));
  }
}

test("/healthz answers while the event loop runs; unknown paths are 404", async () => {
  await withAdmin({}, async (base) => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, "not_found");
  });
});

test("/readyz is 503 with which role is not ready and why", async () => {
  const readiness = (): Readiness => ({
    ready: false,
    draining: false,
    roles: [
      { name: "admin", state: "running", ready: true },
      { name: "app", state: "running", ready: false, reason: "health probe: ECONNREFUSED" },
    ],
  });
  await withAdmin({ readiness }, async (base) => {
    const res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      ready: false,
      draining: false,
      notReady: [{ name: "app", reason: "health probe: ECONNREFUSED" }],
    });
  });
});

test("/metrics serves the Prometheus text format with the runtime's metrics", async () => {
  await withAdmin({}, async (base) => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^sidecar_build_info\{version="9\.9\.9",node_version="v[\d.]+"\} 1$/m);
    assert.match(text, /^sidecar_uptime_seconds \d/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });
});

test("/status is JSON with the fields the runtime gives", async () => {
  await withAdmin({}, async (base) => {
    const body = (await (await fetch(`${base}/status`)).json()) as Record<string, unknown>;
    assert.equal(body.version, "9.9.9");
    assert.equal(body.ready, true);
  });
});

test("/quitquitquit is POST only, and only from a local client", async () => {
  await withAdmin({}, async (base, quits) => {
    const get = await fetch(`${base}/quitquitquit`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal((await fetch(`${base}/quitquitquit`, { method: "POST" })).status, 202);
    assert.equal(quits(), 1);
  });
  // The same request as seen from a client the server does not trust as local.
  await withAdmin({ isLocalClient: () => false }, async (base, quits) => {
    assert.equal((await fetch(`${base}/quitquitquit`, { method: "POST" })).status, 403);
    assert.equal(quits(), 0);
  });
});

test("state-changing endpoints refuse browser requests: any Origin, Sec-Fetch-Site other than none", async () => {
  let resets = 0;
  const toyRoutes = () => {
    const routes = new AdminRouteTable();
    routes.route({
      method: "POST",
      path: "/toy/reset",
      description: "resets the toy",
      handle: (_req, res) => {
        resets++;
        res.end("reset");
      },
    });
    return routes;
  };
  await withAdmin({ routes: toyRoutes() }, async (base, quits) => {
    const browserHeaders: Record<string, string>[] = [
      { origin: "https://attacker.example" },
      { origin: "null" },
      { origin: base }, // same-origin is no proof either (DNS rebinding)
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of browserHeaders) {
      for (const path of ["/quitquitquit", "/toy/reset"]) {
        const res = await fetch(`${base}${path}`, { method: "POST", headers });
        assert.equal(res.status, 403, `${path} with ${JSON.stringify(headers)}`);
        assert.match(((await res.json()) as { message: string }).message, /browser requests/);
      }
    }
    assert.equal(quits(), 0);
    assert.equal(resets, 0);
    // curl, kubelet hooks and a typed-in navigation (Sec-Fetch-Site: none) pass.
    const typed = await fetch(`${base}/toy/reset`, {
      method: "POST",
      headers: { "sec-fetch-site": "none" },
    });
    assert.equal(typed.status, 200);
    assert.equal((await fetch(`${base}/quitquitquit`, { method: "POST" })).status, 202);
    // GET endpoints stay readable from a browser (the status page, /metrics).
    const page = await fetch(`${base}/metrics`, { headers: { origin: "https://x.example" } });
    assert.equal(page.status, 200);
  });
  await withAdmin({ routes: toyRoutes(), isLocalClient: () => false }, async (base) => {
    const res = await fetch(`${base}/toy/reset`, { method: "POST" });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { message: string }).message, /only from loopback/);
    assert.equal(resets, 1);
  });
});

test("GET endpoints refuse other methods with 405 and an Allow header", async () => {
  await withAdmin({}, async (base) => {
    const res = await fetch(`${base}/metrics`, { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
  });
});

test("/metrics adds metrics sources' families; the registry wins a name clash", async () => {
  const seen: string[][] = [];
  const sources: MetricsSource[] = [
    {
      name: "app",
      collect(taken) {
        seen.push([...taken].filter((name) => name.startsWith("sidecar_uptime")));
        return [
          {
            name: "app_jobs_total",
            type: "counter",
            help: "Jobs.",
            samples: [{ name: "app_jobs_total", labels: { k: "a" }, value: 3 }],
          },
          {
            name: "sidecar_uptime_seconds",
            type: "gauge",
            samples: [{ name: "sidecar_uptime_seconds", labels: {}, value: -1 }],
          },
        ];
      },
    },
    {
      name: "broken",
      collect: () => Promise.reject(new Error("boom")),
    },
  ];
  const routes = new AdminRouteTable();
  for (const source of sources) routes.metrics(source);
  await withAdmin({ routes }, async (base) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^app_jobs_total\{k="a"\} 3$/m);
    assert.equal(text.match(/^# TYPE sidecar_uptime_seconds /gm)?.length, 1);
    assert.doesNotMatch(text, /^sidecar_uptime_seconds -1$/m);
    assert.deepEqual(seen[0], ["sidecar_uptime_seconds"]);
    const om = await fetch(`${base}/metrics`, {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    });
    assert.match(om.headers.get("content-type") ?? "", /^application\/openmetrics-text/);
    const body = await om.text();
    assert.match(body, /^# TYPE app_jobs counter$/m);
    assert.match(body, /# EOF\n$/);
  });
});

test("roles add endpoints and panels through the router; GET / is the status page", async () => {
  const routes = new AdminRouteTable();
  routes.route({
    method: "GET",
    path: "/toy/status",
    description: "the toy's state",
    handle: (_req, res) => {
      res.end("toy ok");
    },
  });
  routes.panel({ role: "toy", figures: () => [{ label: "widgets/s", value: "42" }] });
  routes.panel({
    role: "broken",
    figures: () => {
      throw new Error("no figures");
    },
  });
  assert.throws(
    () => routes.route({ method: "GET", path: "/toy/status", description: "", handle: () => {} }),
    TypeError,
  );
  await withAdmin({ routes }, async (base) => {
    assert.equal(await (await fetch(`${base}/toy/status`)).text(), "toy ok");
    assert.equal((await fetch(`${base}/toy/status`, { method: "POST" })).status, 405);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /data-panel="toy".*widgets\/s.*42/s);
    assert.match(html, /data-panel="broken".*unavailable/s);
    assert.match(html, /GET \/toy\/status/);
  });
});

test("/readyz stays 200 for a ready role that reports a problem, and shows it", async () => {
  await withAdmin(
    {
      readiness: () => ({
        ready: true,
        draining: false,
        roles: [
          {
            name: "config",
            state: "running",
            ready: true,
            reason: "serving the last good version",
          },
          { name: "proxy", state: "running", ready: true },
        ],
      }),
    },
    async (base) => {
      const res = await fetch(`${base}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        ready: true,
        warnings: [{ name: "config", reason: "serving the last good version" }],
      });
    },
  );
});
