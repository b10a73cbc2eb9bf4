import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { test } from "node:test";
import type { RequestHead } from "../transport/request-parser.ts";
import { type BodySource, NetRequest } from "./net-request.ts";

const head: RequestHead = {
  method: "POST",
  target: "/x",
  minorVersion: 1,
  rawHeaders: ["Host", "a", "Cookie", "a=1", "cookie", "b=2", "X-A", "1", "x-a", "2"],
  framing: { kind: "length", length: 6 },
  keepAlive: true,
  upgrade: false,
  expectContinue: false,
};

/** Records what the request asked of its connection. */
function source(): BodySource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    pauseBody: () => calls.push("pause"),
    resumeBody: () => calls.push("resume"),
  };
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

test("a body read by nobody yet is queued (the socket paused) and delivered in order once a data listener comes", async () => {
  const from = source();
  const req = new NetRequest(head, {} as Socket, from);
  req.push(Buffer.from("abc"));
  req.push(Buffer.from("def"));
  req.pushEnd([]);
  assert.deepEqual(from.calls, ["pause", "pause"]);
  const seen: string[] = [];
  req.on("data", (chunk: Buffer) => seen.push(chunk.toString()));
  // An end listener attached just after the data listener is not missed.
  req.once("end", () => seen.push("end"));
  assert.deepEqual(seen, [], "delivered on the next tick, as a Readable's");
  await tick();
  assert.deepEqual(seen, ["abc", "def", "end"]);
  assert.equal(req.complete, true);
});

test("pause while delivering keeps the rest queued; resume delivers it and reads the socket again", async () => {
  const from = source();
  const req = new NetRequest(head, {} as Socket, from);
  req.push(Buffer.from("a"));
  req.push(Buffer.from("b"));
  const seen: string[] = [];
  req.on("data", (chunk: Buffer) => {
    seen.push(chunk.toString());
    req.pause();
  });
  await tick();
  assert.deepEqual(seen, ["a"]);
  assert.equal(req.isPaused(), true);
  req.resume();
  await tick();
  assert.deepEqual(seen, ["a", "b"]);
  req.resume();
  await tick();
  assert.equal(from.calls.at(-1), "resume", "the body is not complete: the socket is read again");
  // Flowing and nothing queued: the next chunk is emitted at once.
  req.push(Buffer.from("c"));
  assert.deepEqual(seen, ["a", "b", "c"]);
});

test("headers as node:http builds them; discard drops what is queued", async () => {
  const req = new NetRequest(head, {} as Socket, source());
  assert.deepEqual(req.headers, { host: "a", cookie: "a=1; b=2", "x-a": "1, 2" });
  assert.equal(req.httpVersion, "1.1");
  req.push(Buffer.from("abc"));
  req.discard();
  const seen: string[] = [];
  req.on("data", (chunk: Buffer) => seen.push(chunk.toString()));
  req.resume();
  await tick();
  assert.deepEqual(seen, []);
});
