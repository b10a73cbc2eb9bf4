import assert from "node:assert/strict";
import { test } from "node:test";
import { deriveMemoryBudget } from "../runtime/memory-budget.ts";
import type { RoleMemory } from "../runtime/role-definition.ts";
import { switchablePressure, testMemoryPlan, until } from "../runtime/testing.ts";
import { httpUpstream, RawClient, startProxy, type TestProxy } from "./testing.ts";

/**
 * Requests node:http queues behind the response in progress on a connection (pipelined, on a
 * connection handed to node:http or on a listener whose requests are all node:http's) end with
 * the connection: whether it closes after a response (Connection: close) or the client leaves,
 * and also when an Upgrade pipelined after them took node:http's own close handling away.
 */

const upgrade =
  "GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
const noRoute = "POST /x HTTP/1.1\r\nHost: svc\r\nX-No-Route: 1\r\nContent-Length: 5\r\n\r\nhello";
const chunkedPost = (path: string, data: string) =>
  `POST ${path} HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;

/** A release source that records what the listener reports in flight. */
function recordingRelease() {
  const sources: (() => number)[] = [];
  let quiets = 0;
  const release: NonNullable<RoleMemory["release"]> = {
    track(inFlight) {
      sources.push(inFlight);
      return () => sources.splice(sources.indexOf(inFlight), 1);
    },
    quiet() {
      quiets += 1;
    },
  };
  return { release, inFlight: () => sources.reduce((n, s) => n + s(), 0), quiets: () => quiets };
}

async function activeRequests(proxy: TestProxy): Promise<number> {
  const text = await proxy.registry.metrics();
  return Number(/^sidecar_proxy_active_requests\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
}

async function withProxy(
  requestSide: "net" | "node",
  run: (proxy: TestProxy, paths: string[]) => Promise<void>,
): Promise<void> {
  const paths: string[] = [];
  const upstream = await httpUpstream((req, res) => {
    paths.push(req.url ?? "");
    req.resume();
    // /slow is never answered: its response is in progress until the client leaves.
    if (req.url !== "/slow") res.end("ok");
  });
  const recorded = recordingRelease();
  const proxy = await startProxy(
    {
      listeners: [
        {
          address: "127.0.0.1:0",
          maxRequestBodyBytes: 100,
          routes: [
            {
              match: { prefix: "/", headers: [{ name: "X-No-Route", present: false }] },
              cluster: "app",
            },
          ],
        },
      ],
      upstreamPort: upstream.port,
    },
    {
      requestSide,
      memory: {
        budget: deriveMemoryBudget(testMemoryPlan(128)),
        pressure: switchablePressure(),
        release: recorded.release,
      },
    },
  );
  try {
    await run(proxy, paths);
    await until(async () => (await activeRequests(proxy)) === 0, "no request in flight", 3_000);
    assert.equal(recorded.inFlight(), 0, "the memory release source sees none in flight");
    assert.ok(recorded.quiets() > 0, "the memory release was told all is quiet");
    // A drain finds nothing in flight: it ends long before its deadline.
    const started = Date.now();
    await proxy.role.stop(AbortSignal.timeout(10_000));
    assert.ok(Date.now() - started < 5_000, "the drain did not wait for its deadline");
  } finally {
    await proxy.stop();
    await upstream.close();
  }
}

for (const requestSide of ["net", "node"] as const) {
  test(`a request queued behind a response that closes the connection ends with it, Upgrade after it or not (request side ${requestSide})`, async () => {
    for (const tail of [upgrade, ""]) {
      await withProxy(requestSide, async (proxy, paths) => {
        const client = await RawClient.connect(proxy.port);
        try {
          // One write: the chunked body passes maxRequestBodyBytes (413, Connection: close);
          // the 404 is queued behind it; the Upgrade is parsed before the 413 is written.
          client.write(chunkedPost("/big", "z".repeat(150)) + noRoute + tail);
          const first = await client.read();
          assert.equal(first.status, 413);
          await client.waitClosed();
          assert.equal(client.pending().length, 0, "nothing is answered after the 413");
          assert.ok(!paths.includes("/ws"), "the Upgrade after the close never reaches the app");
        } finally {
          client.close();
        }
      });
    }
  });

  test(`requests queued behind a response in progress end when the client leaves, Upgrade after them or not (request side ${requestSide})`, async () => {
    for (const tail of [upgrade, ""]) {
      await withProxy(requestSide, async (proxy, paths) => {
        const client = await RawClient.connect(proxy.port);
        try {
          client.write(chunkedPost("/slow", "abc") + noRoute + tail);
          await until(() => paths.includes("/slow"), "the first request upstream");
        } finally {
          client.close();
        }
      });
    }
  });

  test(`many requests pipelined on one connection leave no listener behind (request side ${requestSide})`, async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      await withProxy(requestSide, async (proxy) => {
        const client = await RawClient.connect(proxy.port);
        try {
          // Three rounds of 20 in one write each: the 19 behind the first are queued.
          for (let round = 0; round < 3; round++) {
            client.write("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n".repeat(20));
            for (let i = 0; i < 20; i++) assert.equal((await client.read()).status, 200);
          }
        } finally {
          client.close();
        }
      });
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.includes("MaxListenersExceeded")),
      [],
      "no listener gathers on the connection",
    );
  });
}
