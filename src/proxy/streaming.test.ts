import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { until } from "../runtime/testing.ts";
import {
  header,
  httpUpstream,
  RawClient,
  rawUpstream,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";

describe("streaming, Expect: 100-continue and Upgrade", () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  let firstChunkSeen: () => void = () => {};
  before(async () => {
    upstream = await httpUpstream((req, res) => {
      if (req.url === "/stream-down") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first;");
        // The rest only once the client has seen the first chunk (proves no buffering).
        firstChunkSeen = () => res.end("second");
        return;
      }
      if (req.url === "/stream-up") {
        req.once("data", (chunk: Buffer) => {
          res.writeHead(200);
          res.write(`got:${chunk.toString()};`);
          req.on("data", (more: Buffer) => res.write(`got:${more.toString()};`));
          req.on("end", () => res.end("end"));
        });
        return;
      }
      if (req.url === "/big") {
        const chunk = Buffer.alloc(64 * 1024, 7);
        let left = 64;
        const pump = () => {
          while (left > 0) {
            left -= 1;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.writeHead(200, { "content-length": 64 * chunk.length });
        pump();
        return;
      }
      const hash = createHash("sha256");
      let bytes = 0;
      req.on("data", (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.on("end", () => res.end(`${bytes}:${hash.digest("hex")}`));
    });
    proxy = await startProxy({ upstreamPort: upstream.port });
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  test("streams the response before the upstream has finished it", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("GET /stream-down HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
      await client.waitFor("first;");
      assert.ok(!client.pending().toString().includes("second"));
      firstChunkSeen();
      const res = await client.read();
      assert.equal(res.body.toString(), "first;second");
    } finally {
      client.close();
    }
  });

  test("streams the request body before the client has finished it", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(
        "POST /stream-up HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n",
      );
      await client.waitFor("got:hello;");
      client.write("5\r\nworld\r\n0\r\n\r\n");
      const res = await client.read();
      assert.equal(res.body.toString(), "got:hello;got:world;end");
    } finally {
      client.close();
    }
  });

  test("relays a 4 MiB response and a 4 MiB request body intact", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write("GET /big HTTP/1.1\r\nHost: svc\r\n\r\n");
      const res = await client.read({ timeoutMs: 20_000 });
      assert.equal(res.body.length, 4 * 1024 * 1024);
      assert.ok(res.body.every((b) => b === 7));
      const body = Buffer.alloc(4 * 1024 * 1024, 3);
      client.write(`PUT /sum HTTP/1.1\r\nHost: svc\r\nContent-Length: ${body.length}\r\n\r\n`);
      client.write(body);
      const sum = await client.read({ timeoutMs: 20_000 });
      assert.equal(
        sum.body.toString(),
        `${body.length}:${createHash("sha256").update(body).digest("hex")}`,
      );
    } finally {
      client.close();
    }
  });

  test("Expect: 100-continue gets 100 Continue from the upstream before the body is sent", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(
        "POST /sum HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
      );
      await client.waitFor("HTTP/1.1 100 Continue\r\n\r\n");
      client.write("hello");
      const interim = await client.read();
      assert.equal(interim.status, 100);
      const res = await client.read();
      assert.equal(res.status, 200);
      assert.match(res.body.toString(), /^5:/);
    } finally {
      client.close();
    }
  });
});

describe("Upgrade tunnelling", () => {
  let upstream: Upstream & { requests: Buffer[] };
  let proxy: TestProxy;
  before(async () => {
    upstream = await rawUpstream((socket, received) => {
      const text = received.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return;
      const state = socket as unknown as { upgraded?: boolean };
      if (!state.upgraded) {
        state.upgraded = true;
        if (text.includes("/refuse")) {
          socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope");
          return;
        }
        socket.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc\r\n\r\n",
        );
        const early = received.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1"));
        if (early.length > 0) socket.write(Buffer.concat([Buffer.from("echo:"), early]));
        return;
      }
      socket.write(
        Buffer.concat([Buffer.from("echo:"), Buffer.from(text.slice(text.lastIndexOf("|") + 1))]),
      );
    });
    proxy = await startProxy({ upstreamPort: upstream.port });
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  test("tunnels a WebSocket upgrade both ways", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(
        "GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      const res = await client.read({ noBody: true });
      assert.equal(res.status, 101);
      assert.equal(header(res, "upgrade"), "websocket");
      assert.equal(header(res, "sec-websocket-accept"), "abc");
      client.write("|ping");
      await client.waitFor("echo:ping");
      const head = upstream.requests.at(-1)!.toString("latin1");
      assert.match(head, /\r\nupgrade: websocket\r\n/i);
      assert.match(head, /\r\nconnection: upgrade\r\n/i);
      assert.match(head, /\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n/i);
    } finally {
      client.close();
    }
  });

  test("relays the upstream's refusal of an upgrade", async () => {
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(
        "GET /refuse HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      );
      const res = await client.read();
      assert.equal(res.status, 403);
      assert.equal(res.body.toString(), "nope");
    } finally {
      client.close();
    }
  });

  test("after a refused upgrade, what the client still sends is dropped and its close closes the connection", async () => {
    const client = await RawClient.connect(proxy.port);
    client.write(
      "GET /refuse HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    assert.equal((await client.read()).status, 403);
    client.write("bytes the client sent before it saw the refusal");
    client.socket.end();
    await client.waitClosed();
    // The proxy's side closed too: no connection left counted.
    await until(
      async () => (await activeConnections(proxy)) === 0,
      "the proxy to close its side",
      5_000,
    );
  });
});

async function activeConnections(proxy: TestProxy): Promise<number> {
  const text = await proxy.registry.metrics();
  return Number(/^sidecar_proxy_active_connections\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? -1);
}

test("chunked request bodies (node:http transport) reuse pooled upstream connections too", async () => {
  const upstream = await httpUpstream((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  let connections = 0;
  upstream.server.on("connection", () => {
    connections += 1;
  });
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const client = await RawClient.connect(proxy.port);
  try {
    for (let i = 0; i < 3; i++) {
      client.write(
        "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      );
      assert.equal((await client.read()).body.toString(), "ok");
    }
    assert.equal(connections, 1);
  } finally {
    client.close();
    await proxy.stop();
    await upstream.close();
  }
});

test("103 Early Hints from the upstream reach the client before the response", async () => {
  const upstream = await rawUpstream((socket) =>
    socket.end(
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
  );
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const client = await RawClient.connect(proxy.port);
  try {
    client.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
    const hints = await client.read();
    assert.equal(hints.status, 103);
    assert.equal(header(hints, "link"), "</style.css>; rel=preload");
    assert.equal((await client.read()).body.toString(), "ok");
  } finally {
    client.close();
    await proxy.stop();
    await upstream.close();
  }
});

test("concurrent responses read through the shared upstream read buffer arrive intact, also to a client that stops reading or goes away", async () => {
  // Each body its own bytes, in sizes around the read buffer's 64 KiB, some chunked: a chunk
  // kept past its read (a partial head, a paused client's queue) would show another's bytes.
  const bodies = new Map<string, Buffer>();
  for (const size of [13, 2049, 65_535, 65_537, 300_000, 1_500_000])
    bodies.set(`/body/${size}`, randomBytes(size));
  // More than the sockets' buffers hold: the proxy has to pause this upstream connection.
  const big = randomBytes(16 * 1024 * 1024);
  let stalled: () => void = () => {};
  const bigStalled = new Promise<void>((resolve) => {
    stalled = resolve;
  });
  const upstream = await httpUpstream((req, res) => {
    if (req.url === "/big") {
      res.writeHead(200, { "content-length": big.length });
      let at = 0;
      const pump = () => {
        while (at < big.length) {
          const ok = res.write(big.subarray(at, at + 65_536));
          at += 65_536;
          if (!ok) {
            // The proxy stopped reading this connection: its last chunk waits in its socket.
            stalled();
            return void res.once("drain", pump);
          }
        }
        res.end();
      };
      pump();
      return;
    }
    const body = bodies.get(req.url!.replace("/chunked", ""))!;
    if (req.url!.startsWith("/chunked")) {
      res.writeHead(200);
      for (let i = 0; i < body.length; i += 10_000) res.write(body.subarray(i, i + 10_000));
      res.end();
    } else res.end(body);
  });
  const proxy = await startProxy({ upstreamPort: upstream.port });
  const paused = await RawClient.connect(proxy.port);
  try {
    // A client that does not read while the others are served.
    paused.socket.pause();
    paused.write("GET /big HTTP/1.1\r\nHost: svc\r\n\r\n");
    await bigStalled;
    const paths = [...bodies.keys()].flatMap((p) => [p, `/chunked${p}`]);
    const got = await Promise.all(
      [...paths, ...paths].map(async (path) => {
        const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`);
        return [path, Buffer.from(await res.arrayBuffer())] as const;
      }),
    );
    for (const [path, body] of got)
      assert.ok(body.equals(bodies.get(path.replace("/chunked", ""))!), `${path} intact`);
    paused.socket.resume();
    const res = await paused.read({ timeoutMs: 20_000 });
    assert.ok(res.body.equals(big));
    // A client that goes away with copies queued on its socket: their slabs come back through
    // the failed writes' callbacks, and the responses after it are still intact.
    const gone = await RawClient.connect(proxy.port);
    gone.socket.pause();
    const goneStalled = new Promise<void>((resolve) => {
      stalled = resolve;
    });
    gone.write("GET /big HTTP/1.1\r\nHost: svc\r\n\r\n");
    await goneStalled;
    gone.close();
    const again = await Promise.all(
      paths.map(async (path) => {
        const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`);
        return [path, Buffer.from(await res.arrayBuffer())] as const;
      }),
    );
    for (const [path, body] of again)
      assert.ok(body.equals(bodies.get(path.replace("/chunked", ""))!), `${path} intact after`);
  } finally {
    paused.close();
    await proxy.stop();
    await upstream.close();
  }
});
