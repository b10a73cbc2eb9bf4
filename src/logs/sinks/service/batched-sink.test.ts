import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { test } from "node:test";
import { z } from "zod";
import { backoffDelay } from "../../../runtime/backoff.ts";
import { parseRetryAfter } from "../../../runtime/retry-after.ts";
import type { LogEvent } from "../../log-event.ts";
import { LogsSinkErrorCodes } from "../error-codes.ts";
import { testContext, testEvents } from "../testing/test-context.ts";
import { BatchedSink, type SendBatch } from "./batched-sink.ts";
import { JsonBodyEncoder } from "./json-body.ts";
import type { SendOutcome } from "./send-outcome.ts";
import { type ServiceConfig, serviceConfigShape } from "./service-config.ts";
import type { EncodedBatch } from "./sink-batch.ts";

const fast = { initialBackoffSeconds: 0.001, maxBackoffSeconds: 0.005 };

function config(over: Record<string, unknown> = {}): ServiceConfig {
  return z.strictObject(serviceConfigShape()).parse({ retry: fast, ...over });
}

async function sinkWith(send: SendBatch, over: Record<string, unknown> = {}) {
  const ctx = await testContext();
  return { ctx, sink: new BatchedSink(config(over), ctx, { type: "test", send }) };
}

test("cuts batches at maxEvents and maxBytes", async () => {
  const sizes: number[] = [];
  const { sink } = await sinkWith(
    async (events) => {
      sizes.push(events.length);
      return { kind: "delivered" };
    },
    { batch: { maxEvents: 4, maxBytes: 1_000_000 } },
  );
  await sink.write(testEvents(10));
  assert.deepEqual(sizes, [4, 4, 2]);
  sizes.length = 0;
  const { sink: byBytes } = await sinkWith(
    async (events) => {
      sizes.push(events.length);
      return { kind: "delivered" };
    },
    { batch: { maxEvents: 1000, maxBytes: 1 } },
  );
  await byBytes.write(testEvents(3));
  assert.deepEqual(sizes, [1, 1, 1]);
});

test("while a batch is in flight, small writes wait for the age limit and go out together", async () => {
  const sizes: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { sink } = await sinkWith(
    async (events) => {
      sizes.push(events.length);
      if (sizes.length === 1) await gate;
      return { kind: "delivered" };
    },
    { batch: { maxAgeSeconds: 0.02 }, maxInFlight: 4 },
  );
  const first = sink.write(testEvents(1));
  const rest = [1, 2, 3].map((i) => sink.write(testEvents(1, { start: i })));
  await Promise.all(rest);
  release();
  await first;
  assert.deepEqual(sizes, [1, 3]);
});

test("never has more than maxInFlight batches in flight", async () => {
  let inFlight = 0;
  let peak = 0;
  const { ctx, sink } = await sinkWith(
    async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { kind: "delivered" };
    },
    { batch: { maxEvents: 1 }, maxInFlight: 3 },
  );
  await sink.write(testEvents(20));
  assert.equal(peak, 3);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await ctx.metric("sidecar_logs_sink_in_flight_batches", { sink: "test" }), 0);
});

test("retries retryable failures and thrown errors until delivered, counting retries", async () => {
  const outcomes: SendOutcome[] = [
    { kind: "retry", reason: "HTTP 503" },
    { kind: "retry", reason: "HTTP 429", retryAfterMs: 1 },
  ];
  let calls = 0;
  const { ctx, sink } = await sinkWith(async () => {
    calls++;
    if (calls === 3) throw new Error("ECONNREFUSED");
    return outcomes.shift() ?? { kind: "delivered" };
  });
  await sink.write(testEvents(5));
  assert.equal(calls, 4);
  assert.equal(await ctx.metric("sidecar_logs_sink_retries_total", { sink: "test" }), 3);
  assert.equal(await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: "test" }), 5);
  const warn = ctx.logs.find((l) => l.reason === "HTTP 429")!;
  assert.equal(warn.delayMs, 1, "Retry-After sets the delay");
});

test("dead-letters rejected batches to a JSON-lines file, counted, and write resolves", async () => {
  const { ctx, sink } = await sinkWith(async () => ({ kind: "reject", reason: "HTTP 400: bad" }));
  await sink.write(testEvents(2));
  const lines = (await readFile(`${ctx.stateDir}/dead-letter/test.jsonl`, "utf8"))
    .trim()
    .split("\n");
  assert.equal(lines.length, 2);
  const record = JSON.parse(lines[0]!);
  assert.equal(record.reason, "HTTP 400: bad");
  assert.equal(record.sink, "test");
  assert.equal(record.event.message, "event 0");
  assert.equal(await ctx.metric("sidecar_logs_sink_dead_lettered_total", { sink: "test" }), 2);
  assert.equal(
    await ctx.metric("sidecar_logs_sink_events_failed_total", { sink: "test", reason: "rejected" }),
    2,
  );
});

test("dead-letters after maxRetries when set", async () => {
  let calls = 0;
  const { ctx, sink } = await sinkWith(
    async () => {
      calls++;
      return { kind: "retry", reason: "HTTP 500" };
    },
    { retry: { ...fast, maxRetries: 2 } },
  );
  await sink.write(testEvents(1));
  assert.equal(calls, 3);
  const record = JSON.parse(await readFile(`${ctx.stateDir}/dead-letter/test.jsonl`, "utf8"));
  assert.equal(record.reason, "retries exhausted: HTTP 500");
});

test("a partial outcome retries only the failed items and dead-letters the bad ones", async () => {
  const batches: string[][] = [];
  const { ctx, sink } = await sinkWith(async (events) => {
    batches.push(events.map((e) => e.message));
    if (batches.length === 1)
      return { kind: "partial", retry: [1, 3], rejected: [{ index: 2, reason: "mapping" }] };
    return { kind: "delivered" };
  });
  await sink.write(testEvents(4));
  assert.deepEqual(batches, [
    ["event 0", "event 1", "event 2", "event 3"],
    ["event 1", "event 3"],
  ]);
  assert.equal(await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: "test" }), 3);
  assert.equal(await ctx.metric("sidecar_logs_sink_dead_lettered_total", { sink: "test" }), 1);
});

test("a sink that encodes batches when cut: partial retries and dead letters work from the bytes", async () => {
  const encoder = new JsonBodyEncoder();
  const bodies: string[] = [];
  const released: EncodedBatch[] = [];
  const ctx = await testContext();
  const sink = new BatchedSink(config(), ctx, {
    type: "test",
    encoding: {
      encode: (events) => encoder.encodeWithSpans(events),
      send: async (batch, indexes) => {
        bodies.push((indexes ? encoder.encodeSome(batch, indexes) : batch.body).toString());
        if (bodies.length === 1)
          return { kind: "partial", retry: [1, 3], rejected: [{ index: 2, reason: "mapping" }] };
        return { kind: "delivered" };
      },
      release: (batch) => released.push(batch),
    },
  });
  const events = testEvents(4);
  await sink.write(events);
  const messages = (body: string) =>
    body
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).message);
  assert.deepEqual(bodies.map(messages), [
    ["event 0", "event 1", "event 2", "event 3"],
    ["event 1", "event 3"],
  ]);
  assert.equal(bodies[0], encoder.encode(events).toString(), "the same bytes as encoded at send");
  const dead = JSON.parse(await readFile(sink.deadLetter.path, "utf8"));
  assert.equal(dead.reason, "mapping");
  assert.equal(dead.sink, "test");
  assert.equal(dead.event.message, "event 2");
  assert.equal(dead.event.n, 2);
  assert.equal(await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: "test" }), 3);
  assert.equal(released.length, 1, "the body is given back once the batch is settled");
});

test("a sink that encodes batches when cut dead-letters a batch it cannot encode", async () => {
  const encoder = new JsonBodyEncoder();
  let sends = 0;
  const ctx = await testContext();
  const sink = new BatchedSink(config(), ctx, {
    type: "test",
    encoding: {
      encode: (events) => encoder.encodeWithSpans(events),
      send: async () => {
        sends++;
        return { kind: "delivered" };
      },
    },
  });
  const [bad] = testEvents(1);
  bad!.fields.big = 10n;
  await sink.write([bad!]);
  assert.equal(sends, 0);
  const dead = JSON.parse(await readFile(sink.deadLetter.path, "utf8"));
  assert.match(dead.reason, /Cannot encode the batch/);
  assert.equal(dead.event.message, "event 0");
});

test("close at its deadline gives up on an unreachable receiver: unsent counted, writes rejected", async () => {
  const { ctx, sink } = await sinkWith(async (_events, signal) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return signal.aborted
      ? { kind: "retry", reason: "aborted" }
      : { kind: "retry", reason: "ECONNREFUSED" };
  });
  const written = sink.write(testEvents(7));
  const result = written.catch((error: unknown) => error);
  const unsent = await sink.close(AbortSignal.timeout(50));
  assert.equal(unsent, 7);
  assert.equal(((await result) as { code: string }).code, LogsSinkErrorCodes.SINK_CLOSED);
  assert.equal(
    await ctx.metric("sidecar_logs_sink_events_failed_total", {
      sink: "test",
      reason: "unsent_at_close",
    }),
    7,
  );
  assert.ok(ctx.logs.some((l) => l.unsent === 7));
});

test("a dead-letter file that cannot be written keeps the events unacknowledged", async () => {
  const ctx = await testContext();
  await writeFile(`${ctx.stateDir}/a-file`, "");
  const sink = new BatchedSink(
    config({ deadLetter: { path: `${ctx.stateDir}/a-file/dead.jsonl` } }),
    ctx,
    { type: "test", send: async () => ({ kind: "reject", reason: "HTTP 400" }) },
  );
  await assert.rejects(sink.write(testEvents(1)), { code: LogsSinkErrorCodes.DEAD_LETTER_WRITE });
});

test("a full dead-letter file: events counted and logged, then let go", async () => {
  const { ctx, sink } = await sinkWith(async () => ({ kind: "reject", reason: "HTTP 400" }), {
    deadLetter: { maxBytes: 10 },
  });
  await sink.write(testEvents(1));
  assert.equal(
    await ctx.metric("sidecar_logs_sink_events_failed_total", {
      sink: "test",
      reason: "dead_letter_failed",
    }),
    1,
  );
  assert.ok(ctx.logs.some((l) => String(l.msg).includes("is full")));
});

test("backoff grows exponentially with jitter, capped; Retry-After reads seconds and dates", () => {
  const opts = { initialMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(1, { ...opts, random: () => 0 }), 50);
  assert.equal(backoffDelay(1, { ...opts, random: () => 0.999999 }) < 100, true);
  assert.equal(backoffDelay(3, { ...opts, random: () => 0 }), 200);
  assert.equal(backoffDelay(30, { ...opts, random: () => 0 }), 500);
  assert.equal(parseRetryAfter("2", 0), 2000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
  assert.equal(parseRetryAfter("soon", 0), undefined);
  assert.equal(parseRetryAfter(null, 0), undefined);
});

test("events are delivered in order within a write when maxInFlight is 1", async () => {
  const seen: LogEvent[] = [];
  const { sink } = await sinkWith(
    async (events) => {
      seen.push(...events);
      return { kind: "delivered" };
    },
    { maxInFlight: 1, batch: { maxEvents: 3 } },
  );
  await Promise.all([sink.write(testEvents(5)), sink.write(testEvents(5, { start: 5 }))]);
  assert.deepEqual(
    seen.map((e) => e.fields.n),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test("endpoint URLs: the path is added once, under any base path", async () => {
  const { endpointUrl } = await import("./http-request.ts");
  assert.equal(
    endpointUrl("http://loki:3100", "loki/api/v1/push"),
    "http://loki:3100/loki/api/v1/push",
  );
  assert.equal(
    endpointUrl("http://loki:3100/loki/api/v1/push", "loki/api/v1/push"),
    "http://loki:3100/loki/api/v1/push",
  );
  assert.equal(endpointUrl("http://gw/es/", "_bulk"), "http://gw/es/_bulk");
  assert.equal(endpointUrl("http://es:9200/_bulk/", "_bulk"), "http://es:9200/_bulk");
});
