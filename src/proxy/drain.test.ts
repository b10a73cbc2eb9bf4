import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { header, httpUpstream, RawClient, startProxy } from "./testing.ts";

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

test("drain: stop accepting, close idle keep-alive, finish in-flight with Connection: close", async () => {
  let release: () => void = () => {};
  let arrived: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const upstream = await httpUpstream((req, res) => {
    if (req.url === "/slow") {
      arrived();
      release = () => res.end("finished");
    } else res.end("fast");
  });
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const busy = await RawClient.connect(proxy.port);
  const idle = await RawClient.connect(proxy.port);
  try {
    idle.write("GET /fast HTTP/1.1\r\nHost: svc\r\n\r\n");
    assert.equal((await idle.read()).status, 200);
    busy.write("GET /slow HTTP/1.1\r\nHost: svc\r\n\r\n");
    await inFlight;
    let stopped = false;
    const stopping = proxy.role.stop(AbortSignal.timeout(15_000)).then(() => {
      stopped = true;
    });
    assert.equal(proxy.role.ready(), false);
    await idle.waitClosed();
    assert.equal(await refused(proxy.port), true, "new connections are refused");
    assert.equal(stopped, false, "waits for the in-flight request");
    release();
    const res = await busy.read();
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "finished");
    assert.equal(header(res, "connection"), "close");
    await busy.waitClosed();
    await stopping;
  } finally {
    busy.close();
    idle.close();
    await proxy.stop();
    await upstream.close();
  }
});

test("drain: requests still running at the deadline are cut off", async () => {
  let arrived: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const upstream = await httpUpstream(() => arrived());
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const client = await RawClient.connect(proxy.port);
  try {
    client.write("GET /hang HTTP/1.1\r\nHost: svc\r\n\r\n");
    await inFlight;
    await proxy.role.stop(AbortSignal.timeout(300));
    await client.waitClosed();
  } finally {
    client.close();
    await upstream.close();
  }
});
