import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { test } from "node:test";
import type { DownstreamRequest } from "./downstream.ts";
import { NetResponse } from "./net-response.ts";

interface Served {
  response: NetResponse;
  socket: net.Socket;
  /** onFinished's arguments, in order. */
  finished: boolean[];
}

/**
 * A loopback server that makes one NetResponse for the first request head on a connection and
 * a raw client connected to it; `use` runs with both, and everything is closed after.
 */
async function withResponse(
  request: { method?: string; http10?: boolean; keepAlive?: boolean },
  use: (served: Served, client: net.Socket) => Promise<void>,
  clientOptions: { highWaterMark?: number } = {},
): Promise<void> {
  let served: ((value: Served) => void) | undefined;
  const ready = new Promise<Served>((resolve) => {
    served = resolve;
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => {
      const req = {
        method: request.method ?? "GET",
        url: "/",
        httpVersion: request.http10 ? "1.0" : "1.1",
        headers: {},
        rawHeaders: [],
        rawTrailers: [],
        socket,
      } as unknown as DownstreamRequest;
      const finished: boolean[] = [];
      const response = new NetResponse(socket, req, {
        keepAlive: request.keepAlive ?? true,
        http10: request.http10 ?? false,
        keepAliveTimeoutMs: 5000,
        onFinished: (keepAlive) => {
          finished.push(keepAlive);
          if (!keepAlive) socket.end();
        },
      });
      socket.on("close", () => response.socketClosed());
      served!({ response, socket, finished });
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = net.connect({
    port: (server.address() as net.AddressInfo).port,
    host: "127.0.0.1",
    ...clientOptions,
  });
  client.on("error", () => {});
  try {
    await once(client, "connect");
    client.write(
      `${request.method ?? "GET"} / HTTP/1.${request.http10 ? 0 : 1}\r\nHost: a\r\n\r\n`,
    );
    await use(await ready, client);
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }
}

/** Reads from `client` until `done` says the text so far is complete (or the server ends). */
async function readUntil(client: net.Socket, done: (text: string) => boolean): Promise<string> {
  let text = "";
  const ended = once(client, "end").then(() => true);
  for (let i = 0; i < 10_000 && !done(text); i++) {
    const chunk = client.read() as Buffer | null;
    if (chunk) text += chunk.toString("latin1");
    else if (await Promise.race([once(client, "readable").then(() => false), ended])) break;
  }
  return text;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

test("an invalid header name or value throws node:http's error before anything is written", async () => {
  await withResponse({}, async ({ response, socket }) => {
    const cases: [Record<string, unknown> | string[], string][] = [
      [{ "bad name": "x" }, "ERR_INVALID_HTTP_TOKEN"],
      [{ "": "x" }, "ERR_INVALID_HTTP_TOKEN"],
      [{ "x-ok": "a\r\nInjected: 1" }, "ERR_INVALID_CHAR"],
      [{ "x-ok": ["fine", "bad\n"] }, "ERR_INVALID_CHAR"],
      [{ "x-ok": undefined }, "ERR_HTTP_INVALID_HEADER_VALUE"],
      [["x-ok", "a", "x-bad\u0000", "b"], "ERR_INVALID_HTTP_TOKEN"],
      [["x-odd"], "ERR_INVALID_ARG_VALUE"],
    ];
    for (const [headers, code] of cases) {
      assert.equal(
        codeOf(() => response.writeHead(200, headers as http.OutgoingHttpHeaders)),
        code,
        JSON.stringify(headers),
      );
      // node:http's own validators agree on the single-field cases.
      if (!Array.isArray(headers)) {
        const [name, value] = Object.entries(headers)[0] as [string, unknown];
        const nodeCode = codeOf(() => {
          http.validateHeaderName(name!);
          for (const one of [value].flat()) http.validateHeaderValue(name!, one as string);
        });
        assert.equal(nodeCode, code);
      }
      assert.equal(response.headersSent, false);
    }
    assert.equal(
      codeOf(() => response.writeHead(99)),
      "ERR_HTTP_INVALID_STATUS_CODE",
    );
    assert.equal(
      codeOf(() => response.addTrailers({ "x y": "1" })),
      "ERR_INVALID_HTTP_TOKEN",
    );
    assert.equal(
      codeOf(() => response.addTrailers({ x: "1\r\n" })),
      "ERR_INVALID_CHAR",
    );
    assert.equal(socket.bytesWritten, 0);
    // The response is still usable.
    response.writeHead(200, { "content-length": 2 }).end("ok");
    assert.equal(
      codeOf(() => response.writeHead(200)),
      "ERR_HTTP_HEADERS_SENT",
    );
    assert.equal(
      codeOf(() => response.writeContinue()),
      "ERR_HTTP_HEADERS_SENT",
    );
  });
});

for (const [name, request, status] of [
  ["HEAD", { method: "HEAD" }, 200],
  ["204", {}, 204],
  ["304", {}, 304],
] as const) {
  test(`writes are ignored on a ${name} response, and the head alone is sent`, async () => {
    await withResponse(request, async ({ response, finished }, client) => {
      response.writeHead(status, { "x-a": "1" });
      assert.equal(response.write("ignored"), true);
      assert.equal(response.write(Buffer.from("ignored too")), true);
      response.end("and this");
      const text = await readUntil(client, (t) => t.endsWith("\r\n\r\n"));
      assert.match(text, new RegExp(`^HTTP/1.1 ${status} `));
      assert.doesNotMatch(text, /ignored|and this|Transfer-Encoding|Content-Length/);
      assert.ok(text.endsWith("\r\n\r\n"));
      if (!response.writableFinished) await once(response, "finish");
      assert.deepEqual(finished, [true]);
    });
  });
}

test("backpressure: write returns false while the client does not read, and drain follows once it reads", async () => {
  await withResponse(
    {},
    async ({ response, socket }, client) => {
      client.pause();
      response.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      // Write until a write returns false with data left in the socket (the kernel's buffers
      // are full); a false return whose data did reach the kernel is followed by `drain` too.
      let stuck = false;
      for (let i = 0; i < 1000 && !stuck; i++) {
        if (response.write(chunk)) continue;
        if (socket.writableLength > 0) stuck = true;
        else await once(response, "drain");
      }
      assert.ok(stuck, "the socket's buffers filled");
      let drains = 0;
      response.on("drain", () => drains++);
      const drained = once(response, "drain");
      client.resume();
      client.on("data", () => {});
      await drained;
      assert.equal(drains, 1);
      response.end();
      await once(response, "finish");
    },
    { highWaterMark: 1024 },
  );
});

test("socketClosed before the response finished: destroyed, and close once", async () => {
  await withResponse({}, async ({ response, socket, finished }, client) => {
    let closes = 0;
    response.on("close", () => closes++);
    response.writeHead(200);
    response.write("part");
    const closed = new Promise((resolve) => socket.on("close", resolve));
    client.destroy();
    await closed;
    response.socketClosed();
    assert.equal(response.destroyed, true);
    assert.equal(response.writableFinished, false);
    assert.equal(closes, 1);
    assert.deepEqual(finished, []);
    const errors: Error[] = [];
    response.on("error", (error: Error) => errors.push(error));
    assert.equal(response.write("late"), false);
    response.end();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closes, 1);
    assert.deepEqual(finished, []);
    assert.deepEqual(errors, []);
  });
});

for (const [name, request, headers, keepAlive] of [
  ["HTTP/1.1 keep-alive", {}, {}, true],
  ["a request without keep-alive", { keepAlive: false }, {}, false],
  ["Connection: close set by the handler", {}, { connection: "close" }, false],
  ["HTTP/1.0 without a length (close-delimited)", { http10: true, keepAlive: true }, {}, false],
  [
    "HTTP/1.0 keep-alive with a length",
    { http10: true, keepAlive: true },
    { "content-length": 5 },
    true,
  ],
] as const) {
  test(`onFinished is called once, keepAlive ${keepAlive}: ${name}`, async () => {
    await withResponse(request, async ({ response, finished }, client) => {
      const events: string[] = [];
      response.on("finish", () => events.push(`finish ${finished.length}`));
      response.on("close", () => events.push("close"));
      response.writeHead(200, headers);
      response.end("hello");
      response.end();
      await once(response, "close");
      assert.deepEqual(finished, [keepAlive]);
      assert.deepEqual(events, ["finish 1", "close"]);
      assert.equal(response.writableFinished, true);
      const text = await readUntil(client, (t) => t.endsWith("hello") || t.endsWith("0\r\n\r\n"));
      assert.match(
        text,
        keepAlive ? /\r\nConnection: keep-alive\r\n/i : /\r\nConnection: close\r\n/i,
      );
    });
  });
}

test("write after end fails with ERR_STREAM_WRITE_AFTER_END, as node:http's does", async () => {
  await withResponse({}, async ({ response }) => {
    response.on("error", () => {});
    response.end("done");
    const failed = new Promise<Error | null | undefined>((resolve) => {
      assert.equal(response.write("more", resolve), false);
    });
    assert.equal(((await failed) as { code?: string }).code, "ERR_STREAM_WRITE_AFTER_END");
  });
});

/** What a response destroyed mid-body shows: to its handler, and to the client. */
interface DestroyedView {
  /** The bytes the client got before the connection closed (the Date value masked). */
  received: string;
  events: string[];
  destroyed: boolean;
  writableFinished: boolean;
  lateWrite: boolean;
  lateWriteError: string | undefined;
  lateEnd: "returned" | string;
}

/** writeHead, one write, and destroy() once the write is on the socket; then write and end. */
async function destroyMidBody(
  response: http.ServerResponse | NetResponse,
  client: net.Socket,
): Promise<DestroyedView> {
  const events: string[] = [];
  for (const name of ["finish", "close", "error"])
    response.on(name, (error?: { code?: string }) =>
      events.push(error?.code ? `${name} ${error.code}` : name),
    );
  let received = "";
  client.on("data", (data: Buffer) => {
    received += data.toString("latin1");
  });
  const clientClosed = once(client, "close");
  response.writeHead(200, { "content-type": "text/plain" });
  await new Promise<void>((resolve, reject) =>
    response.write("part", (error) => (error ? reject(error) : resolve())),
  );
  const closed = once(response, "close");
  response.destroy();
  await closed;
  let lateWrite = true;
  const lateWriteError = new Promise<string | undefined>((resolve) => {
    lateWrite = response.write("late", (error) =>
      resolve((error as { code?: string } | null | undefined)?.code),
    );
  });
  let lateEnd = "returned";
  try {
    response.end("tail");
  } catch (error) {
    lateEnd = `threw ${(error as { code?: string }).code}`;
  }
  const writeError = await lateWriteError;
  await clientClosed;
  // Two turns for anything queued by the late calls (an error event, a stray write).
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return {
    received: received.replace(/\r\nDate: [^\r\n]*\r\n/, "\r\nDate: <masked>\r\n"),
    events,
    destroyed: response.destroyed,
    writableFinished: response.writableFinished,
    lateWrite,
    lateWriteError: writeError,
    lateEnd,
  };
}

test("destroy() mid-body closes the connection, emits close once and not finish, and ignores later writes, as node:http's does", async () => {
  let ours: DestroyedView | undefined;
  await withResponse({}, async ({ response, finished }, client) => {
    ours = await destroyMidBody(response, client);
    assert.deepEqual(finished, []);
  });
  const server = http.createServer({ keepAliveTimeout: 5000 });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  client.on("error", () => {});
  try {
    const [, res] = (await Promise.all([
      once(client, "connect").then(() => client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n")),
      once(server, "request"),
    ])) as [unknown, [http.IncomingMessage, http.ServerResponse]];
    const theirs = await destroyMidBody(res[1], client);
    assert.deepEqual(ours, theirs);
  } finally {
    client.destroy();
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }
  assert.deepEqual(ours, {
    received:
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nDate: <masked>\r\n" +
      "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "4\r\npart\r\n",
    events: ["close"],
    destroyed: true,
    writableFinished: false,
    lateWrite: false,
    lateWriteError: "ERR_STREAM_DESTROYED",
    lateEnd: "returned",
  });
});
