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

/** The last request head the upstream received on any connection (no bodies in these tests). */
function lastHead(requests: readonly Buffer[]): string {
  const heads = requests
    .flatMap((b) => b.toString("latin1").split("\r\n\r\n"))
    .filter((h) => /^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(h));
  return heads.at(-1) ?? "";
}

function headerLines(head: string): string[] {
  return head
    .split("\r\n")
    .slice(1)
    .map((l) => l.toLowerCase());
}

/** Replies to each complete request head with `response` (keeps the connection). */
function replyWith(response: string) {
  return rawUpstream((socket, received) => {
    const heads = received.toString("latin1").split("\r\n\r\n").length - 1;
    const answered = (socket as unknown as { answered?: number }).answered ?? 0;
    if (heads > answered) {
      (socket as unknown as { answered?: number }).answered = heads;
      socket.write(response);
    }
  });
}

describe("HTTP/1.1 conformance over raw sockets (RFC 9110/9112)", () => {
  let upstream: Upstream & { requests: Buffer[] };
  let proxy: TestProxy;
  before(async () => {
    upstream = await replyWith(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Up-Hop, keep-alive\r\nX-Up-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2, c=3\r\n\r\nok",
    );
    proxy = await startProxy({ upstreamPort: upstream.port });
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  test("removes hop-by-hop and Connection-named request headers, keeps te: trailers", async () => {
    upstream.requests.length = 0;
    const res = await rawRequest(
      proxy.port,
      "GET /hop HTTP/1.1\r\nHost: svc\r\nConnection: X-Secret, close\r\nX-Secret: s\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: foo/2\r\nX-Kept: yes\r\n\r\n",
    );
    assert.equal(res.status, 200);
    const lines = headerLines(lastHead(upstream.requests));
    for (const name of ["x-secret", "keep-alive", "proxy-connection", "upgrade"])
      assert.ok(!lines.some((l) => l.startsWith(`${name}:`)), `${name} was forwarded`);
    assert.ok(lines.includes("te: trailers"));
    assert.ok(lines.includes("x-kept: yes"));
    assert.ok(!lines.some((l) => l.startsWith("connection:") && l.includes("x-secret")));
  });

  test("drops TE values other than trailers", async () => {
    upstream.requests.length = 0;
    await rawRequest(
      proxy.port,
      "GET / HTTP/1.1\r\nHost: svc\r\nTE: gzip\r\nConnection: close\r\n\r\n",
    );
    assert.ok(!headerLines(lastHead(upstream.requests)).some((l) => l.startsWith("te:")));
  });

  test("removes hop-by-hop and Connection-named response headers; keeps each Set-Cookie apart", async () => {
    const res = await rawRequest(
      proxy.port,
      "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    const names = res.headers.map(([n]) => n);
    for (const name of ["x-up-hop", "keep-alive", "proxy-connection"])
      assert.ok(!names.includes(name), name);
    assert.deepEqual(
      res.headers.filter(([n]) => n === "set-cookie").map(([, v]) => v),
      ["a=1; Path=/", "b=2, c=3"],
    );
  });

  test("appends X-Forwarded-For, sets X-Forwarded-Proto and -Host", async () => {
    upstream.requests.length = 0;
    await rawRequest(
      proxy.port,
      "GET / HTTP/1.1\r\nHost: shop.example:8081\r\nX-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nConnection: close\r\n\r\n",
    );
    const lines = headerLines(lastHead(upstream.requests));
    assert.ok(lines.includes("x-forwarded-for: 203.0.113.7, 127.0.0.1"), lines.join("|"));
    assert.ok(lines.includes("x-forwarded-proto: http"));
    assert.ok(lines.includes("x-forwarded-host: shop.example:8081"));
    assert.equal(lines.filter((l) => l.startsWith("x-forwarded-host")).length, 1);
    assert.ok(lines.includes("host: shop.example:8081"));
  });

  test("generates X-Request-Id and traceparent when absent", async () => {
    upstream.requests.length = 0;
    await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
    const lines = headerLines(lastHead(upstream.requests));
    assert.ok(
      lines.some((l) => /^x-request-id: [0-9a-f-]{36}$/.test(l)),
      lines.join("|"),
    );
    assert.ok(lines.some((l) => /^traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(l)));
  });

  test("keeps a present X-Request-Id and a valid traceparent", async () => {
    upstream.requests.length = 0;
    const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await rawRequest(
      proxy.port,
      `GET / HTTP/1.1\r\nHost: svc\r\nX-Request-Id: my-id-42\r\ntraceparent: ${tp}\r\nConnection: close\r\n\r\n`,
    );
    const lines = headerLines(lastHead(upstream.requests));
    assert.ok(lines.includes("x-request-id: my-id-42"));
    assert.ok(lines.includes(`traceparent: ${tp}`));
  });

  test("forwards the normalized path (what the route matched) and the query bytes exactly", async () => {
    upstream.requests.length = 0;
    const query = "?q=a+b&x=%zz;y=&&z=%E2%82%AC/../%2F";
    await rawRequest(
      proxy.port,
      `GET /a/../b//%2e%7e%e2%82%ac${query} HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n`,
    );
    assert.ok(lastHead(upstream.requests).startsWith(`GET /b/.~%E2%82%AC${query} HTTP/1.1\r\n`));
  });

  test("reuses one upstream connection for sequential requests (keep-alive pool)", async () => {
    const before = upstream.requests.length;
    const client = await RawClient.connect(proxy.port);
    try {
      for (let i = 0; i < 3; i++) {
        client.write(`GET /ka${i} HTTP/1.1\r\nHost: svc\r\n\r\n`);
        assert.equal((await client.read()).status, 200);
      }
    } finally {
      client.close();
    }
    assert.ok(
      upstream.requests.length - before <= 1,
      `${upstream.requests.length - before} connections`,
    );
  });
});

describe("bodies, methods and status codes without bodies", () => {
  let upstream: Upstream & { requests: Buffer[] };
  let proxy: TestProxy;
  before(async () => {
    upstream = await rawUpstream((socket, received) => {
      const text = received.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      const path = text.split(" ")[1]!;
      const send = (r: string) => {
        if ((socket as unknown as { sent?: boolean }).sent) return;
        (socket as unknown as { sent?: boolean }).sent = true;
        socket.end(r);
      };
      if (path === "/head")
        send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n");
      else if (path === "/204") send("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
      else if (path === "/304")
        send('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nConnection: close\r\n\r\n');
      else if (path === "/trailers")
        send(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n",
        );
      else if (path === "/echo-trailers" && text.endsWith("\r\n\r\n") && text.includes("0\r\n"))
        send(
          `HTTP/1.1 200 OK\r\nContent-Length: ${received.length}\r\nConnection: close\r\n\r\n${text}`,
        );
    });
    proxy = await startProxy({ upstreamPort: upstream.port });
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  test("HEAD keeps Content-Length and sends no body; the connection stays usable", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("HEAD /head HTTP/1.1\r\nHost: svc\r\n\r\n");
      const res = await client.read({ noBody: true });
      assert.equal(res.status, 200);
      assert.equal(header(res, "content-length"), "100");
      client.write("GET /204 HTTP/1.1\r\nHost: svc\r\n\r\n");
      const next = await client.read();
      assert.equal(next.status, 204, "the HEAD response had no body bytes");
    } finally {
      client.close();
    }
  });

  test("204 and 304 have no body and no framing headers", async () => {
    for (const path of ["/204", "/304"]) {
      const client = await RawClient.connect(proxy.port);
      try {
        client.write(`GET ${path} HTTP/1.1\r\nHost: svc\r\n\r\n`);
        const res = await client.read();
        assert.equal(res.status, Number(path.slice(1)));
        assert.equal(header(res, "transfer-encoding"), undefined);
        client.write("GET /204 HTTP/1.1\r\nHost: svc\r\n\r\n");
        assert.equal((await client.read()).status, 204);
      } finally {
        client.close();
      }
    }
  });

  test("passes response trailers to the client", async () => {
    const res = await rawRequest(
      proxy.port,
      "GET /trailers HTTP/1.1\r\nHost: svc\r\nTE: trailers\r\nConnection: close\r\n\r\n",
    );
    assert.equal(res.body.toString(), "hello");
    assert.deepEqual(res.trailers, [["x-checksum", "abc"]]);
  });

  test("passes request trailers to the upstream", async () => {
    const res = await rawRequest(
      proxy.port,
      "POST /echo-trailers HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n",
    );
    const echoed = res.body.toString("latin1");
    assert.match(echoed, /transfer-encoding: chunked/i);
    assert.match(echoed, /\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n$/);
  });
});
