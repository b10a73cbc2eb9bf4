import { EventEmitter } from "node:events";
import http from "node:http";
import type { Socket } from "node:net";
import type { DownstreamRequest } from "../downstream.ts";
import { NetResponse } from "../net-response.ts";

/**
 * CPU per response, NetResponse against node:http's ServerResponse, on a socket that takes every
 * write at once (so that only the response's own work is measured): writeHead with three fields
 * and end() with a short string, chunked. Shared cores make single rounds noisy: read the last.
 *
 *   node src/proxy/downstream/testing/response-microbench.ts      # N=300000 per round
 */
class NullSocket extends EventEmitter {
  writable = true;
  destroyed = false;
  writableCorked = 0;
  _writableState = { corked: 0 };
  bytes = 0;
  write(data: string | Buffer, encoding?: unknown, callback?: unknown): boolean {
    this.bytes += data.length;
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  }
  cork(): void {
    this.writableCorked++;
  }
  uncork(): void {
    if (this.writableCorked) this.writableCorked--;
  }
  setTimeout(): void {}
  destroySoon(): void {}
  end(): void {}
}

const N = Number(process.env.N ?? 300_000);
const headers = {
  "content-type": "text/plain",
  "x-request-id": "abc123",
  "cache-control": "no-cache",
};
const body = "hello world";
const request = {
  method: "GET",
  url: "/",
  httpVersion: "1.1",
  httpVersionMajor: 1,
  httpVersionMinor: 1,
  headers: {},
  rawHeaders: [],
  rawTrailers: [],
};
const options = { keepAlive: true, http10: false, keepAliveTimeoutMs: 5000, onFinished: () => {} };
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function measure(respond: (socket: NullSocket) => void): Promise<number> {
  const socket = new NullSocket();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    respond(socket);
    if ((i & 1023) === 0) await turn();
  }
  await turn();
  return Number(process.hrtime.bigint() - start) / N;
}

const ours = (socket: NullSocket) => {
  const req = request as unknown as DownstreamRequest;
  new NetResponse(socket as unknown as Socket, req, options).writeHead(200, headers).end(body);
};
const theirs = (socket: NullSocket) => {
  const res = new http.ServerResponse(request as unknown as http.IncomingMessage);
  res.shouldKeepAlive = true;
  (res as unknown as { _keepAliveTimeout: number })._keepAliveTimeout = 5000;
  res.assignSocket(socket as unknown as Socket);
  res.writeHead(200, headers).end(body);
  res.detachSocket(socket as unknown as Socket);
};

for (let round = 0; round < 3; round++) {
  const a = await measure(ours);
  const b = await measure(theirs);
  console.log(
    `round ${round}: NetResponse ${a.toFixed(0)} ns/response, ServerResponse ${b.toFixed(0)} ns/response`,
  );
}
