import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "node:tls";
import { deriveMemoryBudget } from "../runtime/memory-budget.ts";
import { switchablePressure } from "../runtime/testing.ts";
import { httpUpstream, RawClient, startProxy } from "./testing.ts";
import { testCa, testLeaf } from "./tls/test-pki.testing.ts";

const MiB = 2 ** 20;

const plan128 = {
  limitBytes: 128 * MiB,
  source: "test",
  budgetShare: 0.75,
  budgetBytes: 96 * MiB,
  maxOldSpaceMiB: 44,
  semiSpaceMiB: 4,
  tooSmall: false,
};

test("under a memory limit the retry buffers are capped by the budget", async () => {
  const proxy = await startProxy(
    {
      listeners: [
        {
          address: "127.0.0.1:0",
          maxConnections: 100,
          routes: [{ cluster: "app", retries: { bufferBytes: 1024 * 1024 } }],
        },
      ],
      clusters: { app: { endpoints: ["127.0.0.1:1"] } },
    },
    { memory: { budget: deriveMemoryBudget(plan128), pressure: switchablePressure() } },
  );
  try {
    const listener = proxy.role.listeners[0]!.config;
    assert.equal(listener.maxConnections, 100, "a plain listener keeps its own maxConnections");
    assert.equal(listener.routes[0]!.retries.bufferBytes, 24 * 1024);
  } finally {
    await proxy.stop();
  }
});

test("under memory pressure a new connection waits unread, and is served when it ends", async () => {
  const paths: string[] = [];
  let release = () => {};
  const upstream = await httpUpstream((req, res) => {
    paths.push(req.url!);
    if (req.url === "/slow") release = () => res.end("slow");
    else res.end("ok");
  });
  const pressure = switchablePressure();
  const proxy = await startProxy(
    { upstreamPort: upstream.port },
    { memory: { budget: deriveMemoryBudget(plan128), pressure } },
  );
  const busy = await RawClient.connect(proxy.port);
  let waiting: RawClient | undefined;
  try {
    // A request in flight keeps the listener busy: held connections wait for the pressure to end.
    busy.write("GET /slow HTTP/1.1\r\nHost: svc\r\n\r\n");
    while (paths.length === 0) await sleep(10);
    pressure.set(true);
    waiting = await RawClient.connect(proxy.port);
    waiting.write("GET /b HTTP/1.1\r\nHost: svc\r\n\r\n");
    await sleep(300);
    assert.deepEqual(paths, ["/slow"], "the new connection's request is not read under pressure");
    pressure.set(false);
    assert.equal((await waiting.read()).status, 200);
    assert.deepEqual(paths, ["/slow", "/b"]);
    release();
    assert.equal((await busy.read()).status, 200);
  } finally {
    release();
    busy.socket.destroy();
    waiting?.socket.destroy();
    await proxy.stop();
    await upstream.close();
  }
});

test("held connections are let in when pressure stays on but nothing is in flight", async () => {
  const upstream = await httpUpstream((_req, res) => res.end("ok"));
  const pressure = switchablePressure(true);
  const proxy = await startProxy(
    { upstreamPort: upstream.port },
    { memory: { budget: deriveMemoryBudget(plan128), pressure } },
  );
  const client = await RawClient.connect(proxy.port);
  try {
    client.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
    assert.equal((await client.read()).status, 200);
  } finally {
    client.socket.destroy();
    await proxy.stop();
    await upstream.close();
  }
});

test("a TLS listener keeps serving new connections under pressure (only plain listeners hold them)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-pressure-tls-"));
  const ca = await testCa();
  const leaf = await testLeaf(ca, "api", { dns: ["localhost"] });
  await writeFile(join(dir, "tls.crt"), leaf.cert);
  await writeFile(join(dir, "tls.key"), leaf.key);
  const upstream = await httpUpstream((_req, res) => res.end("ok"));
  const proxy = await startProxy(
    {
      listeners: [
        {
          address: "127.0.0.1:0",
          tls: { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") },
          routes: [{ cluster: "app" }],
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    },
    { memory: { budget: deriveMemoryBudget(plan128), pressure: switchablePressure(true) } },
  );
  assert.equal(proxy.role.listeners[0]!.config.maxConnections, 1024, "capped instead");
  const socket = connect({
    port: proxy.port,
    host: "127.0.0.1",
    servername: "localhost",
    ca: ca.cert,
  });
  try {
    socket.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const [chunk] = (await once(socket, "data")) as [Buffer];
    assert.match(chunk.toString(), /^HTTP\/1\.1 200/);
  } finally {
    socket.destroy();
    await proxy.stop();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("past the budget's count of connections a new one waits unread until another closes", async () => {
  const paths: string[] = [];
  const releases: (() => void)[] = [];
  const upstream = await httpUpstream((req, res) => {
    paths.push(req.url!);
    if (req.url!.startsWith("/slow")) releases.push(() => res.end("slow"));
    else res.end("ok");
  });
  const budget = deriveMemoryBudget(plan128);
  const proxy = await startProxy(
    { upstreamPort: upstream.port },
    {
      memory: {
        budget: { ...budget, proxy: { ...budget.proxy, maxConnections: 2 } },
        pressure: switchablePressure(),
      },
    },
  );
  const clients: RawClient[] = [];
  try {
    for (const path of ["/slow1", "/slow2"]) {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      client.write(`GET ${path} HTTP/1.1\r\nHost: svc\r\n\r\n`);
    }
    while (paths.length < 2) await sleep(10);
    const third = await RawClient.connect(proxy.port);
    clients.push(third);
    third.write("GET /third HTTP/1.1\r\nHost: svc\r\n\r\n");
    await sleep(300);
    assert.deepEqual(paths.toSorted(), ["/slow1", "/slow2"], "the third waits while two are read");
    const first = paths[0] === "/slow1" ? 0 : 1;
    releases[0]!();
    assert.equal((await clients[first]!.read()).status, 200);
    clients[first]!.socket.destroy();
    assert.equal((await third.read()).status, 200, "read once one closed");
  } finally {
    for (const release of releases) release();
    for (const client of clients) client.socket.destroy();
    await proxy.stop();
    await upstream.close();
  }
});
