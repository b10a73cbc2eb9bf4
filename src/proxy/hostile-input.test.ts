import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  header,
  RawClient,
  rawRequest,
  rawUpstream,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";
import { hostileRequests } from "./transport/testing/hostile-requests.ts";

describe("hostile input never reaches the app", () => {
  let upstream: Upstream & { requests: Buffer[] };
  let proxy: TestProxy;
  before(async () => {
    upstream = await rawUpstream((socket) =>
      socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    );
    proxy = await startProxy({
      upstreamPort: upstream.port,
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [{ cluster: "app" }],
          maxHeaderBytes: 4096,
          maxUrlBytes: 1024,
          maxRequestBodyBytes: 1000,
          headersTimeoutSeconds: 1,
          idleTimeoutSeconds: 0.5,
          maxConnections: 3,
        },
      ],
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  for (const [name, request, status] of hostileRequests) {
    test(`${name} → ${status}`, async () => {
      const before = upstream.requests.length;
      const res = await rawRequest(proxy.port, request);
      assert.equal(res.status, status);
      if (status !== 400 || header(res, "x-sidecar-error") !== undefined)
        assert.equal(header(res, "x-sidecar-error"), "DPE");
      assert.equal(upstream.requests.length, before, "the upstream was contacted");
    });
  }

  test("a chunked body over maxRequestBodyBytes → 413 and the connection closes", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n");
      client.write(`7d0\r\n${"b".repeat(2000)}\r\n`);
      const res = await client.read();
      assert.equal(res.status, 413);
      assert.equal(JSON.parse(res.body.toString()).code, "SIDECAR_ERR_PROXY_BODY_TOO_LARGE");
      await client.waitClosed();
    } finally {
      client.close();
    }
  });

  test("a client sending its headers too slowly gets 408 and is closed (slowloris)", async () => {
    const before = upstream.requests.length;
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("GET / HTTP/1.1\r\nHost: svc\r\n");
      const trickle = setInterval(() => client.write("X-Slow: 1\r\n"), 200);
      try {
        const res = await client.read({ timeoutMs: 15_000 });
        assert.equal(res.status, 408);
        await client.waitClosed();
      } finally {
        clearInterval(trickle);
      }
      assert.equal(upstream.requests.length, before);
    } finally {
      client.close();
    }
  });

  test("an idle keep-alive connection is closed after idleTimeoutSeconds", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
      assert.equal((await client.read()).status, 200);
      await client.waitClosed(10_000);
    } finally {
      client.close();
    }
  });

  test("generated errors have a JSON body with code, message and requestId", async () => {
    const res = await rawRequest(
      proxy.port,
      `GET /${"u".repeat(2000)} HTTP/1.1\r\nHost: svc\r\nX-Request-Id: rid-1\r\n\r\n`,
    );
    const body = JSON.parse(res.body.toString());
    assert.equal(body.code, "SIDECAR_ERR_PROXY_URL_TOO_LONG");
    assert.equal(body.requestId, "rid-1");
    assert.equal(typeof body.message, "string");
    assert.equal(header(res, "content-type"), "application/json");
  });
});

test("connections over maxConnections are closed without reaching the app", async () => {
  const upstream = await rawUpstream((socket) =>
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
  );
  const proxy = await startProxy({
    upstreamPort: upstream.port,
    listeners: [{ address: "127.0.0.1:0", routes: [{ cluster: "app" }], maxConnections: 3 }],
  });
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      client.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
      assert.equal((await client.read()).status, 200);
    }
    const extra = await RawClient.connect(proxy.port);
    clients.push(extra);
    extra.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
    await extra.waitClosed();
    assert.equal(extra.pending().length, 0);
    assert.ok(clients.slice(0, 3).every((c) => !c.closed));
  } finally {
    for (const c of clients) c.close();
    await proxy.stop();
    await upstream.close();
  }
});

test("a client that stops sending its body is cut off after streamIdleTimeoutSeconds", async () => {
  let upstreamSawClose = false;
  const upstream = await rawUpstream((socket) => {
    socket.once("close", () => {
      upstreamSawClose = true;
    });
  });
  const proxy = await startProxy({
    upstreamPort: upstream.port,
    listeners: [
      { address: "127.0.0.1:0", routes: [{ cluster: "app" }], streamIdleTimeoutSeconds: 0.5 },
    ],
  });
  const client = await RawClient.connect(proxy.port);
  try {
    client.write("POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 100000\r\n\r\n");
    client.write("x".repeat(70_000));
    await client.waitClosed(15_000);
    for (let i = 0; i < 100 && !upstreamSawClose; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(upstreamSawClose, "the upstream request was aborted too");
  } finally {
    client.close();
    await proxy.stop();
    await upstream.close();
  }
});
