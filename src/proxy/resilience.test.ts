import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  header,
  httpUpstream,
  RawClient,
  rawRequest,
  rawUpstream,
  refusedPort,
  startProxy,
} from "./testing.ts";

const get = (port: number, path = "/", extra = "") =>
  rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: svc\r\n${extra}Connection: close\r\n\r\n`);

function body(res: { body: Buffer }) {
  return JSON.parse(res.body.toString()) as { code: string; message: string; requestId: string };
}

describe("misbehaving upstreams", () => {
  test("a refusing upstream → 502 UF with a JSON body, after the configured retries", async () => {
    const port = await refusedPort();
    const proxy = await startProxy({
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [{ cluster: "app", retries: { maxRetries: 2, backoffBaseSeconds: 0.001 } }],
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${port}`] } },
    });
    try {
      const res = await get(proxy.port, "/", "X-Request-Id: r-1\r\n");
      assert.equal(res.status, 502);
      assert.equal(header(res, "x-sidecar-error"), "UF");
      assert.deepEqual(body(res).code, "SIDECAR_ERR_PROXY_UPSTREAM_CONNECT");
      assert.equal(body(res).requestId, "r-1");
      const metrics = await proxy.registry.getSingleMetricAsString(
        "sidecar_proxy_upstream_retries_total",
      );
      assert.match(metrics, /sidecar_proxy_upstream_retries_total\{cluster="app"\} 2/);
    } finally {
      await proxy.stop();
    }
  });

  test("an upstream resetting the connection → 502 UC; a POST is not retried unless it has an Idempotency-Key", async () => {
    const upstream = await rawUpstream((socket) => socket.resetAndDestroy());
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const before = upstream.requests.length;
      const res = await rawRequest(
        proxy.port,
        "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
      );
      assert.equal(res.status, 502);
      assert.equal(header(res, "x-sidecar-error"), "UC");
      assert.equal(body(res).code, "SIDECAR_ERR_PROXY_UPSTREAM_RESET");
      assert.equal(upstream.requests.length - before, 1, "a POST must not be retried");
      const getBefore = upstream.requests.length;
      assert.equal((await get(proxy.port)).status, 502);
      assert.equal(upstream.requests.length - getBefore, 3, "a GET is tried 1 + 2 times");
      const keyed = upstream.requests.length;
      const res2 = await rawRequest(
        proxy.port,
        "POST / HTTP/1.1\r\nHost: svc\r\nIdempotency-Key: 8e03\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
      );
      assert.equal(res2.status, 502);
      assert.equal(upstream.requests.length - keyed, 3, "a POST with Idempotency-Key is retried");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("a small PUT body is buffered and retried after a reset; a large one is streamed, not retried", async () => {
    let connections = 0;
    const upstream = await rawUpstream((socket, received) => {
      const text = received.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return;
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (received.length < end + 4 + length) return;
      const state = socket as unknown as { counted?: boolean };
      if (state.counted) return;
      state.counted = true;
      connections += 1;
      if (connections % 2 === 1) socket.resetAndDestroy();
      else socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\n${text.slice(end + 4)}`);
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const small = await rawRequest(
        proxy.port,
        "PUT /doc HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
      );
      assert.equal(small.status, 200);
      assert.equal(small.body.toString(), "hello", "the retry carried the same body");
      const big = "x".repeat(70 * 1024);
      const large = await rawRequest(
        proxy.port,
        `PUT /doc HTTP/1.1\r\nHost: svc\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`,
      );
      assert.equal(large.status, 502, "over 64 KiB: streamed, so not retried");
    } finally {
      await proxy.stop();
    }
    // retries.bufferBytes raises the limit: the same large body is buffered and retried.
    const roomy = await startProxy({
      upstreamPort: upstream.port,
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [{ cluster: "app", retries: { bufferBytes: 1024 * 1024 } }],
        },
      ],
    });
    try {
      const big = "y".repeat(70 * 1024);
      const res = await rawRequest(
        roomy.port,
        `PUT /doc HTTP/1.1\r\nHost: svc\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`,
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), big, "the retry carried the whole body");
    } finally {
      await roomy.stop();
      await upstream.close();
    }
  });

  test("a hanging upstream → 504 UT after the route timeout", async () => {
    const upstream = await rawUpstream(() => {});
    const proxy = await startProxy({
      listeners: [{ address: "127.0.0.1:0", routes: [{ cluster: "app", timeoutSeconds: 0.3 }] }],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    });
    try {
      const res = await get(proxy.port);
      assert.equal(res.status, 504);
      assert.equal(header(res, "x-sidecar-error"), "UT");
      assert.equal(body(res).code, "SIDECAR_ERR_PROXY_UPSTREAM_TIMEOUT");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("a slow first try is retried after the per-try timeout and the second answer wins", async () => {
    let calls = 0;
    const upstream = await httpUpstream((_req, res) => {
      calls += 1;
      if (calls === 1) return; // hangs
      res.end("second");
    });
    const proxy = await startProxy({
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [{ cluster: "app", timeoutSeconds: 30, perTryTimeoutSeconds: 1 }],
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    });
    try {
      const res = await get(proxy.port);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "second");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("a slow upstream within the timeout is simply waited for", async () => {
    const upstream = await httpUpstream((_req, res) => {
      setTimeout(() => res.end("slow"), 300);
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const res = await get(proxy.port);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "slow");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("503 from the upstream is retried for GET; the last 503 is passed through with URX", async () => {
    let calls = 0;
    const upstream = await httpUpstream((_req, res) => {
      calls += 1;
      res.writeHead(503, { "x-from": "app" }).end("busy");
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const res = await get(proxy.port);
      assert.equal(res.status, 503);
      assert.equal(header(res, "x-from"), "app", "the app's own 503 is passed on");
      assert.equal(header(res, "x-sidecar-error"), undefined);
      assert.equal(res.body.toString(), "busy");
      assert.equal(calls, 3);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("503 then 200: the retry succeeds", async () => {
    let calls = 0;
    const upstream = await httpUpstream((_req, res) => {
      calls += 1;
      if (calls === 1) res.writeHead(503).end();
      else res.end("ok");
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const res = await get(proxy.port);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), "ok");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("503 with a short Retry-After: the retry waits that long; a long one is passed on untouched", async () => {
    const seen: number[] = [];
    const upstream = await httpUpstream((req, res) => {
      seen.push(Date.now());
      if (req.url === "/long") res.writeHead(503, { "retry-after": "120" }).end("busy");
      else if (seen.length === 1) res.writeHead(503, { "retry-after": "0.3" }).end();
      else res.end("ok");
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const short = await get(proxy.port);
      assert.equal(short.status, 200);
      assert.equal(seen.length, 2);
      // Ordering, not speed: the second try did not start before the delay the upstream asked for.
      assert.ok(seen[1]! - seen[0]! >= 290, `retried after ${seen[1]! - seen[0]!} ms`);

      seen.length = 0;
      const long = await get(proxy.port, "/long");
      assert.equal(long.status, 503);
      assert.equal(header(long, "retry-after"), "120");
      assert.equal(long.body.toString(), "busy");
      assert.equal(seen.length, 1, "a Retry-After over maxRetryAfterSeconds is not retried");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("an upstream dying mid-body resets the client connection", async () => {
    const upstream = await rawUpstream((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
      setTimeout(() => socket.destroy(), 50);
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      await assert.rejects(get(proxy.port), /connection closed/);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("a retry budget of 0 with no floor disables retries", async () => {
    const upstream = await rawUpstream((socket) => socket.resetAndDestroy());
    const proxy = await startProxy({
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [{ cluster: "app", retries: { budgetPercent: 0, minRetryConcurrency: 0 } }],
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    });
    try {
      const before = upstream.requests.length;
      const res = await get(proxy.port);
      assert.equal(res.status, 502);
      assert.equal(upstream.requests.length - before, 1);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});

describe("upstream connections", () => {
  test("a pooled connection the upstream has closed is not a failure for the next request", async () => {
    const upstream = await rawUpstream((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      setTimeout(() => socket.destroy(), 20);
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      assert.equal((await get(proxy.port)).status, 200);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await get(proxy.port)).status, 200);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("a malformed upstream response → 502, never passed on", async () => {
    const upstream = await rawUpstream((socket) =>
      socket.end("HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok"),
    );
    const proxy = await startProxy({
      listeners: [
        { address: "127.0.0.1:0", routes: [{ cluster: "app", retries: { maxRetries: 0 } }] },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    });
    try {
      const res = await get(proxy.port);
      assert.equal(res.status, 502);
      assert.equal(header(res, "x-sidecar-error"), "UPE");
      assert.equal(header(res, "x-bad"), undefined);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });

  test("an upstream answering before the whole request body arrived: answer relayed, next request clean", async () => {
    let connections = 0;
    const upstream = await httpUpstream((req, res) => {
      if (req.url === "/early") {
        res.writeHead(413, { connection: "keep-alive" }).end("too big");
        return;
      }
      req.resume();
      req.on("end", () => res.end("fine"));
    });
    upstream.server.on("connection", () => {
      connections += 1;
    });
    const proxy = await startProxy({ upstreamPort: upstream.port });
    const client = await RawClient.connect(proxy.port);
    try {
      const big = "x".repeat(200 * 1024);
      client.write(
        `POST /early HTTP/1.1\r\nHost: svc\r\nContent-Length: ${big.length}\r\n\r\n${big}`,
      );
      const early = await client.read();
      assert.equal(early.status, 413);
      assert.equal(early.body.toString(), "too big");
      const next = await rawRequest(
        proxy.port,
        "POST /ok HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
      );
      assert.equal(next.body.toString(), "fine");
      assert.ok(connections >= 1);
    } finally {
      client.close();
      await proxy.stop();
      await upstream.close();
    }
  });

  test("a close-delimited upstream body is relayed whole", async () => {
    const upstream = await rawUpstream((socket) =>
      socket.end("HTTP/1.1 200 OK\r\n\r\nuntil the end"),
    );
    const proxy = await startProxy({ upstreamPort: upstream.port });
    try {
      const res = await get(proxy.port);
      assert.equal(res.body.toString(), "until the end");
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});

describe("limits", () => {
  test("requests over the cluster's maxRequests → 503 UO with Retry-After", async () => {
    const held: (() => void)[] = [];
    const upstream = await httpUpstream((_req, res) => {
      held.push(() => res.end("done"));
    });
    const proxy = await startProxy({
      listeners: [{ address: "127.0.0.1:0", routes: [{ cluster: "app" }] }],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`], maxRequests: 2 } },
    });
    try {
      const first = [get(proxy.port), get(proxy.port)];
      for (let i = 0; i < 200 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      const res = await get(proxy.port);
      assert.equal(res.status, 503);
      assert.equal(header(res, "x-sidecar-error"), "UO");
      assert.equal(header(res, "retry-after"), "1");
      assert.equal(body(res).code, "SIDECAR_ERR_PROXY_OVERFLOW");
      for (const release of held) release();
      for (const r of await Promise.all(first)) assert.equal(r.status, 200);
    } finally {
      for (const release of held) release();
      await proxy.stop();
      await upstream.close();
    }
  });

  test("rate limits: global and per client address → 429 RL with Retry-After", async () => {
    const upstream = await httpUpstream((_req, res) => res.end("ok"));
    const proxy = await startProxy({
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [{ cluster: "app" }],
          rateLimit: { perClient: { requestsPerSecond: 0.01, burst: 3 } },
        },
        {
          address: "127.0.0.1:0",
          name: "global",
          routes: [{ cluster: "app" }],
          rateLimit: { global: { requestsPerSecond: 0.01, burst: 2 } },
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    });
    try {
      const perClient = [];
      for (let i = 0; i < 4; i++) perClient.push((await get(proxy.ports[0]!)).status);
      assert.deepEqual(perClient, [200, 200, 200, 429]);
      const limited = await get(proxy.ports[0]!);
      assert.equal(header(limited, "x-sidecar-error"), "RL");
      assert.ok(Number(header(limited, "retry-after")) >= 1);
      assert.equal(body(limited).code, "SIDECAR_ERR_PROXY_RATE_LIMITED");
      const global = [];
      for (let i = 0; i < 3; i++) global.push((await get(proxy.ports[1]!)).status);
      assert.deepEqual(global, [200, 200, 429]);
    } finally {
      await proxy.stop();
      await upstream.close();
    }
  });
});
