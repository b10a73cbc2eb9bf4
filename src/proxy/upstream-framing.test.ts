import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  header,
  RawClient,
  rawUpstream,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";

/** The answers of a hostile upstream, by request path; "/ok" is the honest one. */
const answers: Record<string, string> = {
  "/ok": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "/cl-te":
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "/te-cl":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "/cl0-smuggle":
    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n2c\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged\r\n0\r\n\r\n",
  "/gzip-chunked":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "/trailer-te":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nHost: evil\r\nX-Sum: 1\r\n\r\n",
  "/trailer-cl":
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 40\r\n\r\n",
  "/extra":
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged",
  "/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
};

function answer(path: string): string {
  return answers[path] ?? answers["/ok"]!;
}

describe("a hostile upstream cannot desync the client connection", () => {
  let upstream: Upstream & { requests: Buffer[] };
  let proxy: TestProxy;
  before(async () => {
    upstream = await rawUpstream((socket, received) => {
      const text = received.toString("latin1");
      // One answer per request head on the connection (keep-alive).
      const heads = text.split("\r\n\r\n").length - 1;
      const state = socket as unknown as { answered?: number };
      while ((state.answered ?? 0) < heads) {
        const path = text.split("\r\n\r\n")[state.answered ?? 0]!.split(" ")[1]!;
        state.answered = (state.answered ?? 0) + 1;
        socket.write(answer(path));
      }
    });
    proxy = await startProxy({
      listeners: [
        { address: "127.0.0.1:0", routes: [{ cluster: "app", retries: { maxRetries: 0 } }] },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
    });
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  /** Sends `path` then /ok on one client connection; returns both responses. */
  async function twoOnOneConnection(path: string) {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(`GET ${path} HTTP/1.1\r\nHost: svc\r\n\r\n`);
      const first = await client.read();
      client.write("GET /ok HTTP/1.1\r\nHost: svc\r\n\r\n");
      const second = await client.read();
      assert.equal(client.pending().length, 0, "no bytes beyond the two responses");
      return { first, second };
    } finally {
      client.close();
    }
  }

  for (const path of ["/cl-te", "/te-cl", "/cl0-smuggle", "/gzip-chunked"])
    test(`${path}: 502 UPE, and the next response on the connection is the client's own`, async () => {
      const { first, second } = await twoOnOneConnection(path);
      assert.equal(first.status, 502);
      assert.equal(header(first, "x-sidecar-error"), "UPE");
      assert.match(first.body.toString(), /SIDECAR_ERR_PROXY_UPSTREAM_PROTOCOL/);
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), "ok");
    });

  test("bytes after a complete body are dropped, and that upstream connection is not reused", async () => {
    const { first, second } = await twoOnOneConnection("/extra");
    assert.equal(first.status, 200);
    assert.equal(header(first, "content-length"), "5");
    assert.equal(first.body.toString(), "hello");
    assert.equal(second.body.toString(), "ok");
    const used = upstream.requests.find((r) => r.includes("GET /extra "))!.toString("latin1");
    assert.doesNotMatch(used.slice(used.indexOf("GET /extra ")), /GET \/ok /);
  });

  test("the proxy frames a chunked upstream body itself: no upstream length goes down", async () => {
    const { first } = await twoOnOneConnection("/chunked");
    assert.equal(first.body.toString(), "hello");
    assert.equal(header(first, "content-length"), undefined);
    assert.equal(header(first, "transfer-encoding"), "chunked");
  });

  test("trailers lose framing, hop-by-hop and routing fields", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("GET /trailer-te HTTP/1.1\r\nHost: svc\r\nTE: trailers\r\n\r\n");
      const res = await client.read();
      assert.equal(res.body.toString(), "hello");
      assert.deepEqual(res.trailers, [["x-sum", "1"]]);
    } finally {
      client.close();
    }
  });

  test("a Content-Length trailer is a protocol error: the client connection is reset, not fed more", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("GET /trailer-cl HTTP/1.1\r\nHost: svc\r\n\r\n");
      await client.waitClosed();
      assert.doesNotMatch(client.pending().toString("latin1"), /\r\n0\r\n\r\n$/);
    } finally {
      client.close();
    }
  });
});

test("a chunked request (node:http transport) gets 502 UPE for 'gzip, chunked'", async () => {
  const upstream = await rawUpstream((socket, received) => {
    if (received.includes("0\r\n\r\n")) socket.end(answer("/gzip-chunked"));
  });
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const client = await RawClient.connect(proxy.port);
  try {
    client.write(
      "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    );
    const res = await client.read();
    assert.equal(res.status, 502);
    assert.equal(header(res, "x-sidecar-error"), "UPE");
  } finally {
    client.close();
    await proxy.stop();
    await upstream.close();
  }
});

test("an Upgrade request with a body is refused before it reaches the app", async () => {
  const upstream = await rawUpstream((socket) => socket.end(answer("/ok")));
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const client = await RawClient.connect(proxy.port);
  try {
    const smuggled = "GET /admin HTTP/1.1\r\nHost: svc\r\n\r\n";
    client.write(
      `GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    );
    const res = await client.read();
    assert.equal(res.status, 400);
    assert.equal(upstream.requests.length, 0);
  } finally {
    client.close();
    await proxy.stop();
    await upstream.close();
  }
});

test("an upstream's 100 Continue is relayed once, and only to a client that expects it", async () => {
  const upstream = await rawUpstream((socket, received) => {
    const text = received.toString("latin1");
    const state = socket as unknown as { step?: number };
    if (!state.step && text.includes("\r\n\r\n")) {
      state.step = 1;
      socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
    }
    if (state.step === 1 && (text.endsWith("hi") || text.endsWith("0\r\n\r\n"))) {
      state.step = 2;
      socket.end(answer("/ok"));
    }
  });
  const proxy = await startProxy({ upstreamPort: upstream.port });
  try {
    const expecting = await RawClient.connect(proxy.port);
    try {
      expecting.write(
        "POST / HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
      );
      await expecting.waitFor("100 Continue");
      expecting.write("hi");
      const text = await expecting.waitFor("\r\n\r\nok");
      assert.equal(text.split("100 Continue").length - 1, 1, text);
    } finally {
      expecting.close();
    }
    const chunked = await RawClient.connect(proxy.port);
    try {
      chunked.write(
        "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      );
      const res = await chunked.read();
      assert.equal(res.status, 200);
      assert.doesNotMatch(res.head, /100/);
    } finally {
      chunked.close();
    }
  } finally {
    await proxy.stop();
    await upstream.close();
  }
});
