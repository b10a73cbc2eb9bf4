import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { proxyConfigSchema } from "./proxy-config.ts";
import { createProxyRole } from "./proxy-role.ts";
import { startProxy } from "./testing.ts";

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
