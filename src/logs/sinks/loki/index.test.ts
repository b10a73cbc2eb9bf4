import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEvent } from "../../log-event.ts";
import { httpSinkSetup } from "../testing/http-sink-setup.ts";
import { parseLokiPush } from "../testing/strict-bodies.ts";
import { testEvents } from "../testing/test-context.ts";
import { createLokiSink, lokiSinkSchema } from "./index.ts";

const setup = httpSinkSetup(lokiSinkSchema, createLokiSink, (url) => ({ type: "loki", url }));

test("pushes to /loki/api/v1/push with the tenant header, labels from fields, entries sorted", async () => {
  const { receiver, sink } = await setup({
    tenantId: "team-a",
    labels: { level: "level", namespace: "kubernetes.namespace", app: "app" },
    staticLabels: { job: "app" },
  });
  const events: LogEvent[] = testEvents(4).map((e, i) => ({
    ...e,
    timestamp: 1_700_000_000_000 - i, // newest first: must be sorted
    level: i % 2 ? "error" : "info",
    fields: { kubernetes: { namespace: "shop" }, app: "web", i },
  }));
  await sink.write(events);
  const req = receiver.accepted[0]!;
  assert.equal(req.path, "/loki/api/v1/push");
  assert.equal(req.headers["x-scope-orgid"], "team-a");
  const streams = parseLokiPush(req.body);
  assert.deepEqual(
    streams.map((s) => s.stream).sort((a, b) => (a.level! < b.level! ? -1 : 1)),
    [
      { app: "web", job: "app", level: "error", namespace: "shop" },
      { app: "web", job: "app", level: "info", namespace: "shop" },
    ],
  );
  const info = streams.find((s) => s.stream.level === "info")!;
  assert.deepEqual(
    info.values.map(([ts]) => ts),
    ["1699999999998000000", "1700000000000000000"],
  );
  const line = JSON.parse(info.values[0]![1]);
  assert.equal(line.message, "event 2");
  assert.equal(
    line.app,
    undefined,
    "a top-level field used as a label is not repeated in the line",
  );
  assert.equal(line.i, 2);
});

test("label values are bounded: past maxLabelValues new values become the overflow value", async () => {
  const { receiver, ctx, sink } = await setup({
    labels: { request: "requestId" },
    maxLabelValues: 3,
    line: "message",
  });
  const events = testEvents(6).map((e, i) => ({ ...e, fields: { requestId: `r${i}` } }));
  await sink.write(events);
  const streams = parseLokiPush(receiver.accepted[0]!.body);
  const values = streams.map((s) => s.stream.request).sort();
  assert.deepEqual(values, ["__overflow__", "r0", "r1", "r2"]);
  assert.deepEqual(
    streams.find((s) => s.stream.request === "__overflow__")!.values.map(([, l]) => l),
    ["event 3", "event 4", "event 5"],
  );
  assert.equal(ctx.logs.filter((l) => l.label === "request").length, 1, "warned once");
});

test("500 is retried; 400 (e.g. entry too old) is dead-lettered", async () => {
  const { receiver, ctx, sink } = await setup();
  receiver.failNext(2, { status: 500 });
  await sink.write(testEvents(2));
  assert.equal(receiver.requests.length, 3);
  assert.equal(receiver.accepted.length, 1);
  receiver.failNext(1, { status: 400, body: "entry too far behind" });
  await sink.write(testEvents(1, { start: 9 }));
  assert.equal(await ctx.metric("sidecar_logs_sink_dead_lettered_total", { sink: "loki" }), 1);
});
