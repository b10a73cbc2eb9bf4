import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { httpSinkSetup } from "../testing/http-sink-setup.ts";
import { bulkResponse, parseBulk } from "../testing/strict-bodies.ts";
import { testEvents } from "../testing/test-context.ts";
import { createElasticsearchSink, elasticsearchSinkSchema } from "./index.ts";

const setup = httpSinkSetup(elasticsearchSinkSchema, createElasticsearchSink, (url) => ({
  type: "elasticsearch",
  url,
}));

test("a _bulk body of create actions with dated index names and @timestamp", async () => {
  const { receiver, sink } = await setup({ index: "logs-%Y.%m.%d" });
  receiver.respondWith((req) => ({
    status: 200,
    body: bulkResponse(parseBulk(req.body), () => 201),
  }));
  await sink.write(testEvents(2));
  const req = receiver.accepted[0]!;
  assert.equal(req.path, "/_bulk");
  assert.equal(req.headers["content-type"], "application/x-ndjson");
  const ops = parseBulk(req.body);
  assert.deepEqual(
    ops.map((o) => [o.action, o.index, o.doc.message, o.doc["@timestamp"]]),
    [
      ["create", "logs-2024.01.01", "event 0", "2024-01-01T00:00:00.000Z"],
      ["create", "logs-2024.01.01", "event 1", "2024-01-01T00:00:00.001Z"],
    ],
  );
});

test("a partly failed bulk: only the 429 items are sent again, the 400 one is dead-lettered", async () => {
  const { receiver, ctx, sink } = await setup();
  const attempts = new Map<string, number>();
  receiver.respondWith((req) => {
    const ops = parseBulk(req.body);
    return {
      status: 200,
      body: bulkResponse(ops, (op) => {
        const message = op.doc.message as string;
        const n = (attempts.get(message) ?? 0) + 1;
        attempts.set(message, n);
        if (message === "event 1") return 400;
        if ((message === "event 2" || message === "event 4") && n === 1) return 429;
        return 201;
      }),
    };
  });
  await sink.write(testEvents(5));
  const bodies = receiver.requests.map((r) => parseBulk(r.body).map((o) => o.doc.message));
  assert.deepEqual(bodies, [
    ["event 0", "event 1", "event 2", "event 3", "event 4"],
    ["event 2", "event 4"],
  ]);
  const dead = JSON.parse(
    await readFile(`${ctx.stateDir}/dead-letter/elasticsearch.jsonl`, "utf8"),
  );
  assert.equal(dead.event.message, "event 1");
  assert.match(dead.reason, /item status 400: document_parsing_exception/);
  assert.equal(
    await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: "elasticsearch" }),
    4,
  );
});

test("a whole-request 503 is retried; a 2xx with a body that is not a bulk response is retried", async () => {
  const { receiver, sink } = await setup();
  receiver.failNext(1, { status: 503 });
  receiver.failNext(1, { status: 200, body: "<html>proxy</html>" });
  receiver.respondWith((req) => ({
    status: 200,
    body: bulkResponse(parseBulk(req.body), () => 201),
  }));
  await sink.write(testEvents(1));
  assert.equal(receiver.requests.length, 3);
});

test("idempotent ids: an event sent again gets the same _id and a 409 counts as delivered", async () => {
  const { receiver, ctx, sink } = await setup({ idempotentIds: true });
  const stored = new Set<string>();
  receiver.respondWith((req) => {
    const body = req.body.split("\n");
    const ops = parseBulk(req.body);
    const ids = ops.map((_, i) => JSON.parse(body[i * 2]!).create._id as string);
    return {
      status: 200,
      body: bulkResponse(ops, (op) => {
        const id = ids[ops.indexOf(op)]!;
        if (stored.has(id)) return 409;
        stored.add(id);
        return 201;
      }),
    };
  });
  await sink.write(testEvents(3));
  await sink.write(testEvents(3)); // read again after a restart
  assert.equal(stored.size, 3);
  assert.equal(
    await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: "elasticsearch" }),
    6,
  );
  assert.equal(
    await ctx.metric("sidecar_logs_sink_dead_lettered_total", { sink: "elasticsearch" }),
    0,
  );
});
