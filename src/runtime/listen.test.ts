import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { isLoopback, listenOn } from "./listen.ts";

test("isLoopback accepts 127.0.0.0/8, ::1 and v4-mapped loopback only", () => {
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
    assert.equal(isLoopback(address), true, address);
  for (const address of [
    "10.0.0.1",
    "192.168.1.1",
    "::ffff:10.0.0.1",
    "fe80::1",
    "1.127.0.0",
    undefined,
  ]) {
    assert.equal(isLoopback(address), false, String(address));
  }
});

test("a port in use becomes SIDECAR_ERR_PORT_IN_USE naming the port and the owner", async () => {
  const first = createServer();
  const { port } = await listenOn(first, { host: "127.0.0.1", port: 0 }, "First");
  try {
    await assert.rejects(
      listenOn(createServer(), { host: "127.0.0.1", port }, 'Proxy listener "ingress"'),
      {
        code: "SIDECAR_ERR_PORT_IN_USE",
        message: `Proxy listener "ingress" cannot listen on 127.0.0.1:${port}: port ${port} is already in use by another process; stop it or choose another port`,
      },
    );
  } finally {
    first.close();
  }
});
