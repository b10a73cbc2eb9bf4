import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { RawClient } from "../testing.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream.ts";
import { NetHttpServer } from "./net-http-server.ts";

/**
 * NetHttpServer on its own, with a handler that answers each request with what it read:
 * pipelining, HTTP/1.0, bodies nobody reads, the hand-off to node:http mid-connection, and
 * the timeouts. (The proxy's suites run on it too: every plain listener uses it.)
 */
describe("NetHttpServer", () => {
  let server: NetHttpServer;
  let port: number;
  /** Requests whose answer the test holds back (path /hold), released by release(). */
  const held: (() => void)[] = [];
  /** The server's side of each connection, as accepted. */
  const accepted: Socket[] = [];
  const fallback = createHttpServer({ headersTimeout: 600, connectionsCheckingInterval: 100 });
  fallback.on("request", (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("latin1");
    });
    req.on("end", () => res.end(`node ${req.method} ${req.url} ${body}`));
  });

  const answer = (req: DownstreamRequest, res: DownstreamResponse) => {
    if (req.url === "/unread") {
      res.end("not read");
      return;
    }
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("latin1");
    });
    req.once("end", () => {
      // With a length, as the proxy's responses have one: HTTP/1.0 keep-alive needs it.
      const text = `net ${req.method} ${req.url} ${body}`;
      const reply = () =>
        res.writeHead(200, { "content-length": Buffer.byteLength(text) }).end(text);
      if (req.url === "/hold") held.push(reply);
      else reply();
    });
  };

  before(async () => {
    server = new NetHttpServer({
      maxHeaderBytes: 16384,
      headersTimeoutMs: 600,
      keepAliveTimeoutMs: 700,
      streamIdleMs: 60_000,
      checkIntervalMs: 100,
      onRequest: answer,
      onRefused: (socket: Socket, code, status) =>
        socket.end(`HTTP/1.1 ${status} Refused\r\nx-code: ${code}\r\ncontent-length: 0\r\n\r\n`),
      onHeadersTimeout: (socket: Socket) =>
        socket.end("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n"),
      fallback,
    });
    server.server.on("connection", (socket: Socket) => accepted.push(socket));
    server.server.listen(0, "127.0.0.1");
    await once(server.server, "listening");
    port = (server.server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAll();
    server.server.close();
    fallback.close();
  });

  test("pipelined requests in one write are answered in order, bodies included", async () => {
    const client = await RawClient.connect(port);
    client.write(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert.equal((await client.read()).body.toString(), "net GET /a ");
    assert.equal((await client.read()).body.toString(), "net POST /b abc");
    assert.equal((await client.read()).body.toString(), "net GET /c ");
    assert.equal(client.closed, false);
    client.close();
  });

  test("a body nobody reads is read and dropped; the next request on the connection is served", async () => {
    const client = await RawClient.connect(port);
    const body = "x".repeat(200_000);
    client.write(`POST /unread HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    assert.equal((await client.read()).body.toString(), "not read");
    client.write(`${body}GET /after HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal((await client.read()).body.toString(), "net GET /after ");
    client.close();
  });

  test("HTTP/1.0: closed after the response unless it asked for keep-alive", async () => {
    const closing = await RawClient.connect(port);
    closing.write("GET /old HTTP/1.0\r\n\r\n");
    const res = await closing.read();
    assert.equal(res.body.toString(), "net GET /old ");
    await closing.waitClosed();
    const kept = await RawClient.connect(port);
    kept.write("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal((await kept.read()).body.toString(), "net GET /old ");
    kept.write("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal((await kept.read()).body.toString(), "net GET /again ");
    kept.close();
  });

  test("a chunked request mid-connection hands the connection to node:http, which serves the rest", async () => {
    const client = await RawClient.connect(port);
    client.write(
      "GET /first HTTP/1.1\r\nHost: x\r\n\r\nPOST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /third HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert.equal((await client.read()).body.toString(), "net GET /first ");
    assert.equal((await client.read()).body.toString(), "node POST /chunked abc");
    assert.equal((await client.read()).body.toString(), "node GET /third ");
    // node:http's own headers timeout watches the handed-off connection.
    client.write("GET /slow HTTP/1.1\r\n");
    assert.equal((await client.read()).status, 408);
    await client.waitClosed();
  });

  test("a malformed request is refused with the parser's status and the connection closes", async () => {
    const client = await RawClient.connect(port);
    client.write(
      "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    );
    assert.equal((await client.read()).body.toString(), "net GET /ok ");
    const refused = await client.read();
    assert.equal(refused.status, 400);
    await client.waitClosed();
  });

  test("a head that does not complete within the headers timeout gets 408, also after a response", async () => {
    const fresh = await RawClient.connect(port);
    fresh.write("GET / HTTP/1.1\r\nHost");
    assert.equal((await fresh.read()).status, 408);
    await fresh.waitClosed();
    const pipelined = await RawClient.connect(port);
    pipelined.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\n");
    assert.equal((await pipelined.read()).body.toString(), "net GET /one ");
    assert.equal((await pipelined.read()).status, 408);
    await pipelined.waitClosed();
  });

  test("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
    const client = await RawClient.connect(port);
    client.write("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await client.read()).status, 200);
    await client.waitClosed(5_000);
  });

  test("a client pipelining without reading is not read past a bound while its request waits", async () => {
    const client = await RawClient.connect(port);
    const request = "GET /queued HTTP/1.1\r\nHost: x\r\n\r\n";
    const count = 40_000; // ~1.3 MB of requests
    client.write(`GET /hold HTTP/1.1\r\nHost: x\r\n\r\n${request.repeat(count)}`);
    // Written as far as the kernel's buffers take it; the server reads a bounded part of it.
    await waitUntil(() => held.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const serverSide = accepted.at(-1);
    assert.ok(serverSide, "the connection is open");
    assert.ok(
      serverSide.bytesRead < 512 * 1024,
      `read ${serverSide.bytesRead} bytes while one request was answered`,
    );
    held.shift()!();
    for (let i = 0; i <= count; i++) await client.read();
    assert.equal(client.pending().toString(), "");
    client.close();
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(condition(), "condition not met within 5 s");
}
