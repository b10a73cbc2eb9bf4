import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";

/** Counts what a receiver got; `waitFor(n)` resolves when n messages arrived. */
export interface Counter {
  port: number;
  count: number;
  /** performance.now() when the first message of this round arrived. */
  firstAt: number | undefined;
  waitFor(n: number, timeoutMs: number): Promise<boolean>;
  reset(): void;
  close(): Promise<void>;
}

function counter(server: Server | HttpServer): Counter {
  // close() must not wait for a sender that keeps its connection open (the server would never close).
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // Every pending waitFor: measure() waits twice at once (the contender may exit first), and a
  // replaced waiter's timer kept the finished bench alive for its whole timeout.
  const waiters = new Set<{ n: number; resolve: (ok: boolean) => void }>();
  const c: Counter & { add(n: number): void } = {
    port: (server.address() as AddressInfo).port,
    count: 0,
    firstAt: undefined,
    add(n) {
      if (n > 0) c.firstAt ??= performance.now();
      c.count += n;
      for (const waiter of waiters) if (c.count >= waiter.n) waiter.resolve(true);
    },
    waitFor(n, timeoutMs) {
      if (c.count >= n) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = {
          n,
          resolve: (ok: boolean) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(ok);
          },
        };
        const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
        waiters.add(waiter);
      });
    },
    reset() {
      for (const waiter of waiters) waiter.resolve(false);
      c.count = 0;
      c.firstAt = undefined;
    },
    async close() {
      const closed = once(server, "close");
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return c;
}

function countNewlines(chunk: Buffer): number {
  let n = 0;
  let at = chunk.indexOf(10);
  while (at !== -1) {
    n++;
    at = chunk.indexOf(10, at + 1);
  }
  return n;
}

/** An HTTP receiver of NDJSON bodies: one message per line; answers 200 once the body is read. */
export async function httpNdjsonReceiver(): Promise<Counter> {
  let c: (Counter & { add(n: number): void }) | undefined;
  const server = createHttpServer((req, res) => {
    let n = 0;
    req.on("data", (chunk: Buffer) => {
      n += countNewlines(chunk);
    });
    req.on("end", () => {
      res.end();
      c!.add(n);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  c = counter(server) as Counter & { add(n: number): void };
  return c;
}

/** A TCP receiver counting RFC 6587 octet-counted frames ("LEN SP MSG"), or newline-terminated lines. */
export async function tcpReceiver(framing: "octet-counting" | "newline"): Promise<Counter> {
  let c: (Counter & { add(n: number): void }) | undefined;
  const server = createServer((socket) => {
    if (framing === "newline") {
      socket.on("data", (chunk: Buffer) => c!.add(countNewlines(chunk)));
      return;
    }
    let length = 0; // digits of the frame length read so far
    let skip = 0; // bytes of the current message left
    socket.on("data", (chunk: Buffer) => {
      let frames = 0;
      let i = 0;
      while (i < chunk.length) {
        if (skip > 0) {
          const take = Math.min(skip, chunk.length - i);
          skip -= take;
          i += take;
          if (skip === 0) frames++;
          continue;
        }
        const byte = chunk[i++]!;
        if (byte === 0x20) {
          skip = length;
          length = 0;
          if (skip === 0) frames++;
        } else if (byte >= 0x30 && byte <= 0x39) length = length * 10 + (byte - 0x30);
        // anything else between frames (a stray newline) is ignored
      }
      c!.add(frames);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  c = counter(server) as Counter & { add(n: number): void };
  return c;
}
