import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { defaultBufferSizes } from "../runtime/memory-budget.ts";
import { noMemoryPressure } from "../runtime/memory-pressure.ts";
import { proxyConfigSchema } from "./proxy-config.ts";
import { createProxyRole } from "./proxy-role.ts";
import { httpUpstream, rawRequest, startProxy } from "./testing.ts";

test("a listener port in use is refused with SIDECAR_ERR_PORT_IN_USE naming the listener and port", async () => {
  const first = await startProxy({});
  const role = createProxyRole(
    proxyConfigSchema.parse({
      listeners: [
        { name: "ingress", address: `127.0.0.1:${first.port}`, routes: [{ cluster: "app" }] },
      ],
      clusters: { app: { endpoints: ["127.0.0.1:1"] } },
      accessLog: { enabled: false },
    }),
    { logger: pino({ level: "silent" }), registry: new Registry() },
  );
  try {
    await assert.rejects(role.start(), (error: Error & { code: string }) => {
      assert.equal(error.code, "SIDECAR_ERR_PORT_IN_USE");
      assert.match(error.message, new RegExp(`Proxy listener "ingress".*${first.port}`));
      return true;
    });
    assert.equal(role.ready(), false);
  } finally {
    await role.stop(AbortSignal.timeout(5_000));
    await first.stop();
  }
});

test("the role is ready while serving and not after stop; stop is idempotent", async () => {
  const proxy = await startProxy({});
  assert.equal(proxy.role.ready(), true);
  assert.equal(proxy.role.notReadyReason?.(), undefined);
  await Promise.all([proxy.stop(), proxy.stop()]);
  assert.equal(proxy.role.ready(), false);
  assert.match(proxy.role.notReadyReason?.() ?? "", /stopped/);
});

test("each listener reports when it has nothing in flight, so memory a busy spell grew is given back", async () => {
  const upstream = await httpUpstream((_req, res) => res.end("ok"));
  const tracked: (() => number)[] = [];
  const seen: number[] = [];
  const release = {
    track(inFlight: () => number) {
      tracked.push(inFlight);
      return () => tracked.splice(tracked.indexOf(inFlight), 1);
    },
    quiet() {
      seen.push(tracked.reduce((sum, inFlight) => sum + inFlight(), 0));
    },
  };
  const proxy = await startProxy(
    { upstreamPort: upstream.port },
    { memory: { budget: defaultBufferSizes, pressure: noMemoryPressure, release } },
  );
  try {
    assert.equal(tracked.length, 1);
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal(res.status, 200);
    }
    // Each response's end is seen by the proxy once it is written: wait for the third, bounded.
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, [0, 0, 0]);
  } finally {
    await proxy.stop();
    await upstream.close();
  }
  assert.equal(tracked.length, 0, "a draining listener is no longer tracked");
});
