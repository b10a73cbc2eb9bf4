import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { LogsSinkErrorCodes } from "../error-codes.ts";
import { httpSinkSetup } from "../testing/http-sink-setup.ts";
import { testEvents } from "../testing/test-context.ts";
import { createHttpSink, httpSinkSchema } from "./index.ts";

const setup = httpSinkSetup(httpSinkSchema, createHttpSink, (url) => ({
  type: "http",
  url: `${url}/ingest`,
}));

const messages = (body: string) =>
  body
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).message);

test("NDJSON with headers, bearer auth and gzip; the token never reaches the logs", async () => {
  const { receiver, ctx, sink } = await setup({
    compression: "gzip",
    headers: { "x-api-key": "k-123" },
    auth: { type: "bearer", token: "s3cr3t-token" },
  });
  receiver.failNext(1, { status: 500, body: "boom" });
  await sink.write(testEvents(3));
  const req = receiver.accepted[0]!;
  assert.equal(req.path, "/ingest");
  assert.equal(req.headers["content-type"], "application/x-ndjson");
  assert.equal(req.headers["content-encoding"], "gzip");
  assert.equal(req.headers.authorization, "Bearer s3cr3t-token");
  assert.equal(req.headers["x-api-key"], "k-123");
  assert.deepEqual(messages(req.body), ["event 0", "event 1", "event 2"]);
  const logText = JSON.stringify(ctx.logs);
  assert.ok(logText.includes("HTTP 500"), "the retry is logged");
  assert.ok(!logText.includes("s3cr3t-token") && !logText.includes("k-123"), "no secret in logs");
});

test("JSON array encoding and basic auth", async () => {
  const { receiver, sink } = await setup({
    encoding: "json",
    auth: { type: "basic", user: "u", password: "p" },
  });
  await sink.write(testEvents(2));
  const req = receiver.accepted[0]!;
  assert.equal(req.headers.authorization, `Basic ${Buffer.from("u:p").toString("base64")}`);
  const body = JSON.parse(req.body) as { message: string; timestamp: string; level: string }[];
  assert.deepEqual(
    body.map((e) => e.message),
    ["event 0", "event 1"],
  );
  assert.equal(body[0]!.timestamp, "2024-01-01T00:00:00.000Z");
  assert.equal(body[0]!.level, "info");
});

test("429 with Retry-After is retried after the time it asks for", async () => {
  const { receiver, ctx, sink } = await setup();
  receiver.failNext(1, { status: 429, headers: { "retry-after": "1" } });
  await sink.write(testEvents(1));
  assert.equal(receiver.accepted.length, 1);
  assert.equal(ctx.logs.find((l) => String(l.reason).startsWith("HTTP 429"))!.delayMs, 1000);
});

test("a permanent 4xx is dead-lettered with the reason, never silently dropped", async () => {
  const { receiver, ctx, sink } = await setup();
  receiver.failNext(1, { status: 400, body: '{"error":"bad field"}' });
  await sink.write(testEvents(2));
  const dead = (await readFile(`${ctx.stateDir}/dead-letter/http.jsonl`, "utf8"))
    .trim()
    .split("\n");
  assert.equal(dead.length, 2);
  assert.match(JSON.parse(dead[0]!).reason, /HTTP 400: \{"error":"bad field"\}/);
  assert.equal(await ctx.metric("sidecar_logs_sink_dead_lettered_total", { sink: "http" }), 2);
  assert.equal(receiver.requests.length, 1, "not retried");
});

test("receiver down for a while, then back on the same port: everything delivered", async () => {
  const { receiver, ctx, sink } = await setup();
  const port = receiver.port;
  await receiver.stop();
  const writing = sink.write(testEvents(10));
  for (
    let i = 0;
    i < 100 && (await ctx.metric("sidecar_logs_sink_retries_total", { sink: "http" })) < 3;
    i++
  )
    await new Promise((resolve) => setTimeout(resolve, 10));
  await receiver.start(port);
  await writing;
  assert.deepEqual(
    receiver.accepted.flatMap((r) => messages(r.body)),
    testEvents(10).map((e) => e.message),
  );
  assert.ok((await ctx.metric("sidecar_logs_sink_retries_total", { sink: "http" })) >= 3);
  assert.ok(
    ctx.logs.some((l) => /ECONNREFUSED/.test(String(l.reason))),
    "the retry log names the connection error",
  );
});

test("a slow receiver past the timeout is retried", async () => {
  const { receiver, sink } = await setup({ timeoutSeconds: 0.05 });
  receiver.failNext(1, { status: 200, delayMs: 300 });
  await sink.write(testEvents(1));
  assert.ok(receiver.requests.length >= 2);
  assert.equal(receiver.accepted.at(-1)!.body.includes("event 0"), true);
});

test("credentials in the URL become a Basic Authorization header", async () => {
  const { receiver, sink } = await setup();
  const ctx2 = await (await import("../testing/test-context.ts")).testContext();
  const withCreds = createHttpSink(
    httpSinkSchema.parse({ type: "http", url: `http://ann:p%40ss@127.0.0.1:${receiver.port}/in` }),
    ctx2,
  );
  await withCreds.write(testEvents(1));
  const req = receiver.accepted.at(-1)!;
  assert.equal(req.path, "/in");
  assert.equal(req.headers.authorization, `Basic ${Buffer.from("ann:p@ss").toString("base64")}`);
  await sink.close(AbortSignal.timeout(1000));
  await withCreds.close(AbortSignal.timeout(1000));
});

test("write stays pending while the receiver holds the request, and resolves once it answers", async () => {
  const { receiver, sink } = await setup();
  const release = receiver.hold();
  let resolved = false;
  const writing = sink.write(testEvents(3)).then(() => {
    resolved = true;
  });
  for (let i = 0; i < 250 && receiver.requests.length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(receiver.requests.length, 1, "the receiver has the batch");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resolved, false, "not acknowledged before the receiver answers");
  release();
  await writing;
  assert.equal(resolved, true);
});

test("close's deadline aborts a request the receiver holds: the write fails, nothing is acknowledged", async () => {
  const { receiver, ctx, sink } = await setup({ timeoutSeconds: 60 });
  const release = receiver.hold();
  const written = sink.write(testEvents(3)).catch((error: unknown) => error);
  for (let i = 0; i < 250 && receiver.requests.length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  // Without the abort, close would wait for the request's own 60 s timeout.
  assert.equal(await sink.close(AbortSignal.timeout(50)), 3);
  assert.equal(((await written) as { code: string }).code, LogsSinkErrorCodes.SINK_CLOSED);
  assert.equal(await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: "http" }), 0);
  release();
});

test("many batches in flight at once arrive intact (bodies' memory is reused)", async () => {
  const { receiver, sink } = await setup({ batch: { maxEvents: 7 }, maxInFlight: 4 });
  await Promise.all([0, 1, 2, 3].map((w) => sink.write(testEvents(50, { start: w * 50 }))));
  await sink.write(testEvents(50, { start: 200 }));
  const got = receiver.accepted.flatMap((r) => messages(r.body));
  assert.deepEqual(
    got.toSorted((a, b) => Number(a.split(" ")[1]) - Number(b.split(" ")[1])),
    testEvents(250).map((e) => e.message),
  );
});
