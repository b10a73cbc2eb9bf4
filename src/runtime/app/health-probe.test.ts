import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { test } from "node:test";
import { Registry } from "prom-client";
import { captureLogger } from "../testing.ts";
import type { HealthProbeConfig } from "./app-config.ts";
import { HealthProbe, probeOnce, statusMatches } from "./health-probe.ts";

const timing = {
  intervalSeconds: 0.05,
  timeoutSeconds: 1,
  failureThreshold: 2,
  successThreshold: 1,
};

async function httpApp(status: () => number): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(status());
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port };
}

test("statusMatches a code or a class", () => {
  assert.equal(statusMatches(204, "2xx"), true);
  assert.equal(statusMatches(301, "2xx"), false);
  assert.equal(statusMatches(301, 301), true);
});

test("an HTTP probe passes on the expected status and explains any other", async () => {
  let status = 200;
  const { server, port } = await httpApp(() => status);
  try {
    const config: HealthProbeConfig = {
      type: "http",
      host: "127.0.0.1",
      port,
      path: "/healthz",
      expectStatus: "2xx",
      ...timing,
    };
    assert.deepEqual(await probeOnce(config), { ok: true });
    status = 500;
    assert.deepEqual(await probeOnce(config), {
      ok: false,
      error: "GET /healthz answered 500, expected 2xx",
    });
  } finally {
    server.close();
  }
});

test("a TCP probe fails with the connection error when nothing listens", async () => {
  const blocker = createTcpServer().listen(0, "127.0.0.1");
  await once(blocker, "listening");
  const { port } = blocker.address() as { port: number };
  assert.deepEqual(await probeOnce({ type: "tcp", host: "127.0.0.1", port, ...timing }), {
    ok: true,
  });
  blocker.close();
  await once(blocker, "close");
  const result = await probeOnce({ type: "tcp", host: "127.0.0.1", port, ...timing });
  assert.equal(result.ok, false);
  assert.match(result.error ?? "", /ECONNREFUSED/);
});

test("goes up on success, down after failureThreshold failures in a row, and exports it", async () => {
  let status = 200;
  const { server, port } = await httpApp(() => status);
  const registry = new Registry();
  const changes: boolean[] = [];
  const probe = new HealthProbe(
    { type: "http", host: "127.0.0.1", port, path: "/", expectStatus: 200, ...timing },
    { registry, logger: captureLogger().logger, onChange: (up) => changes.push(up) },
  );
  try {
    probe.start();
    assert.equal(await probe.waitUntilUp(AbortSignal.timeout(5000)), true);
    assert.match(await registry.metrics(), /^sidecar_app_up 1$/m);
    status = 503;
    const deadline = Date.now() + 5000;
    while (probe.up && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(probe.up, false);
    assert.equal(probe.lastError, "GET / answered 503, expected 200");
    const text = await registry.metrics();
    assert.match(text, /^sidecar_app_up 0$/m);
    assert.match(text, /^sidecar_app_probe_failures_total [2-9]\d*$/m);
    assert.match(text, /^sidecar_app_probe_duration_seconds_count \d+$/m);
    assert.deepEqual(changes, [true, false]);
  } finally {
    probe.stop();
    server.close();
  }
});

test("waitUntilUp resolves false when its signal aborts first", async () => {
  const probe = new HealthProbe(
    { type: "tcp", host: "127.0.0.1", port: 1, ...timing },
    { registry: new Registry(), logger: captureLogger().logger },
  );
  probe.start();
  assert.equal(await probe.waitUntilUp(AbortSignal.timeout(200)), false);
  probe.stop();
});
