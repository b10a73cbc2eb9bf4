import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { after, test } from "node:test";
import type { Endpoint } from "../cluster/endpoint.ts";
import type { TryFailure } from "../upstream-errors.ts";
import { RawPool } from "./raw-pool.ts";
import { sendRaw } from "./raw-transport.ts";
import type { TryCallbacks } from "./upstream-transport.ts";

/** A raw upstream: `answer` writes whatever it likes for each request head it reads. */
async function upstream(answer: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (data) => {
      if (data.includes("\r\n\r\n")) answer(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    port,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

interface Outcome {
  status?: number;
  body: Buffer[];
  ended?: boolean;
  failure?: [TryFailure, string];
}

/** Sends one GET through `pool`; resolves when the try ends or fails. */
function get(pool: RawPool, bodyIdleMs: number): Promise<Outcome> {
  const outcome: Outcome = { body: [] };
  return new Promise((resolve) => {
    const callbacks: TryCallbacks = {
      onContinue() {},
      onInfo() {},
      onHead(status) {
        outcome.status = status;
        return true;
      },
      onData(chunk, view) {
        outcome.body.push(view ? Buffer.from(chunk) : chunk);
        return true;
      },
      onEnd(_trailers, last) {
        if (last) outcome.body.push(Buffer.from(last));
        outcome.ended = true;
        resolve(outcome);
      },
      onBodySent() {},
      onError(failure, detail) {
        outcome.failure = [failure, detail];
        resolve(outcome);
      },
    };
    const endpoint = { rawPool: () => pool } as unknown as Endpoint;
    sendRaw(
      endpoint,
      {
        method: "GET",
        path: "/",
        headers: ["host", "x"],
        body: undefined,
        connectTimeoutMs: 2000,
        bodyIdleMs,
      },
      callbacks,
    );
  });
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

test("a pooled connection idle past idleTimeoutMs is closed", async () => {
  const app = await upstream((s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  cleanups.push(() => app.close());
  const pool = new RawPool({
    host: "127.0.0.1",
    port: app.port,
    idleTimeoutMs: 100,
    maxConnections: 4,
  });
  cleanups.push(() => pool.close());
  const first = await get(pool, 5000);
  assert.equal(Buffer.concat(first.body).toString(), "ok");
  assert.equal(app.sockets.size, 1);
  for (let i = 0; i < 100 && app.sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(app.sockets.size, 0, "the idle connection was closed");
});

test("a try waiting for the head longer than the pool's idle timeout is not cut by it", async () => {
  const app = await upstream((s) => {
    setTimeout(() => s.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow"), 400);
  });
  cleanups.push(() => app.close());
  const pool = new RawPool({
    host: "127.0.0.1",
    port: app.port,
    idleTimeoutMs: 100,
    maxConnections: 4,
  });
  cleanups.push(() => pool.close());
  // Twice: on a new connection, then on the reused one.
  for (let i = 0; i < 2; i++) {
    const outcome = await get(pool, 5000);
    assert.equal(outcome.failure, undefined);
    assert.equal(Buffer.concat(outcome.body).toString(), "slow");
  }
});

test("an upstream that stalls in the body fails the try after bodyIdleMs, also past the pool's idle timeout", async () => {
  const app = await upstream((s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart"));
  cleanups.push(() => app.close());
  for (const [idleTimeoutMs, bodyIdleMs] of [
    [5000, 150],
    [100, 350],
  ] as const) {
    const pool = new RawPool({
      host: "127.0.0.1",
      port: app.port,
      idleTimeoutMs,
      maxConnections: 4,
    });
    cleanups.push(() => pool.close());
    const outcome = await get(pool, bodyIdleMs);
    assert.equal(outcome.status, 200);
    assert.equal(Buffer.concat(outcome.body).toString(), "part");
    assert.equal(outcome.failure?.[0], "timeout");
  }
});

test("at maxConnections, tries wait and each released connection goes to the next of them", async () => {
  const app = await upstream((s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  cleanups.push(() => app.close());
  const pool = new RawPool({
    host: "127.0.0.1",
    port: app.port,
    idleTimeoutMs: 5000,
    maxConnections: 2,
  });
  cleanups.push(() => pool.close());
  const tries = Array.from({ length: 20 }, () => get(pool, 5000));
  assert.equal(pool.open, 2);
  assert.equal(pool.waiting, 18);
  for (const outcome of await Promise.all(tries)) {
    assert.equal(outcome.failure, undefined);
    assert.equal(Buffer.concat(outcome.body).toString(), "ok");
  }
  assert.equal(app.sockets.size, 2, "no connection beyond maxConnections was opened");
  assert.equal(pool.waiting, 0);
});

test("a waiting try gets a new connection when one closes (Connection: close)", async () => {
  const app = await upstream((s) =>
    s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
  );
  cleanups.push(() => app.close());
  const pool = new RawPool({
    host: "127.0.0.1",
    port: app.port,
    idleTimeoutMs: 5000,
    maxConnections: 1,
  });
  cleanups.push(() => pool.close());
  const outcomes = await Promise.all(Array.from({ length: 5 }, () => get(pool, 5000)));
  for (const outcome of outcomes) assert.equal(Buffer.concat(outcome.body).toString(), "ok");
});

test("closing the pool fails the tries still waiting", async () => {
  const app = await upstream(() => {});
  cleanups.push(() => app.close());
  const pool = new RawPool({
    host: "127.0.0.1",
    port: app.port,
    idleTimeoutMs: 5000,
    maxConnections: 1,
  });
  const first = get(pool, 5000);
  const second = get(pool, 5000);
  assert.equal(pool.waiting, 1);
  pool.close();
  assert.deepEqual((await second).failure, ["reset", "connection pool closed"]);
  await app.close();
  assert.ok((await first).failure, "the try in flight ends when the upstream goes");
});
