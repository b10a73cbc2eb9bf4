import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEvent } from "../../log-event.ts";
import { testEvents } from "../testing/test-context.ts";
import { encodeJsonLines, eventJsonText } from "./event-json.ts";
import { JsonBodyEncoder } from "./json-body.ts";

const position = { streamId: "a", offset: 1 };
const at = Date.UTC(2024, 0, 1);

/** Events that take every branch: shared and changing times, levels and sources, odd fields. */
const events: LogEvent[] = [
  { message: "plain", timestamp: at, fields: {}, source: "/a.log", position },
  { message: "same time", timestamp: at, fields: {}, source: "/a.log", position },
  {
    message: 'say "hi"\n\t\u0001',
    timestamp: at,
    level: "info",
    fields: {},
    source: "/a.log",
    position,
  },
  {
    message: "é ✓ 😀 \ud800 lone",
    timestamp: at + 1,
    level: "info",
    fields: { n: 1 },
    source: "/b é.log",
    position,
  },
  {
    message: "m",
    timestamp: at + 1,
    level: "warn",
    parseError: 'bad "json"',
    fields: { user: "ann", nested: { a: [1, null] }, gone: undefined, 'we"ird': true, ünï: "ç" },
    source: "/b é.log",
    position,
  },
  {
    message: "reserved keys are left out",
    timestamp: at + 2,
    fields: { level: "x", message: "x", source: "x", parseError: "x", timestamp: "x", kept: 1 },
    source: "/a.log",
    position,
  },
  {
    message: "only undefined",
    timestamp: at + 2,
    fields: { gone: undefined },
    source: "/a.log",
    position,
  },
  { message: "", timestamp: Number.NaN, fields: {}, source: "", position },
  {
    message: "x".repeat(5000) + "é".repeat(3000),
    timestamp: at,
    fields: {},
    source: "/a.log",
    position,
  },
];
const proto = JSON.parse('{"__proto__": {"polluted": 1}, "b": 2}') as Record<string, unknown>;
events.push({
  message: "__proto__ stays a field",
  timestamp: at,
  fields: proto,
  source: "/a.log",
  position,
});

test("JSON lines: byte for byte the text encoder's output, for every kind of event", () => {
  const encoder = new JsonBodyEncoder();
  assert.deepEqual(encoder.encode(events), Buffer.from(encodeJsonLines(events)));
  // Again with the same encoder (nothing carried over wrongly), and one event at a time.
  assert.deepEqual(encoder.encode(events), Buffer.from(encodeJsonLines(events)));
  for (const event of events)
    assert.deepEqual(encoder.encode([event]).toString(), `${eventJsonText(event)}\n`);
});

test("a JSON array layout and another time key", () => {
  const array = new JsonBodyEncoder({ open: "[", separator: ",", close: "]" });
  assert.equal(
    array.encode(events).toString(),
    `[${events.map((e) => eventJsonText(e)).join(",")}]`,
  );
  assert.deepEqual(JSON.parse(array.encode([]).toString()), []);
  const es = new JsonBodyEncoder({ timestampKey: "@timestamp" });
  assert.equal(
    es.encode(events).toString(),
    events.map((e) => `${eventJsonText(e, "@timestamp")}\n`).join(""),
  );
});

test("grows past its first guess: many long multi-byte events", () => {
  const long = Array.from({ length: 50 }, (_, i) => ({
    ...events[0]!,
    message: `${i} ${"ж".repeat(2000)}`,
  }));
  assert.deepEqual(new JsonBodyEncoder().encode(long), Buffer.from(encodeJsonLines(long)));
});

test("a value JSON cannot hold throws, like the text encoder", () => {
  const bad = [{ ...events[0]!, fields: { n: 1n } }];
  assert.throws(() => new JsonBodyEncoder().encode(bad), TypeError);
  assert.throws(() => encodeJsonLines(bad), TypeError);
});

test("a body given back is written into again; a Buffer it did not make is not taken", () => {
  const encoder = new JsonBodyEncoder();
  const first = encoder.encode(events);
  encoder.recycle(first);
  const second = encoder.encode(events.slice(0, 3));
  assert.equal(second.buffer, first.buffer, "the same memory");
  assert.deepEqual(second, Buffer.from(encodeJsonLines(events.slice(0, 3))));
  encoder.recycle(Buffer.from("from Node's shared pool").subarray(5));
  assert.notEqual(encoder.encode(events.slice(0, 1)).buffer, second.buffer);
});

test("encodeWithSpans: each event's span holds its object; encodeSome lays out a subset as configured", () => {
  const some4 = testEvents(4);
  for (const layout of [{}, { open: "[", separator: ",", close: "]" }]) {
    const encoder = new JsonBodyEncoder(layout);
    const batch = encoder.encodeWithSpans(some4);
    assert.deepEqual(batch.body, encoder.encode(some4));
    for (let i = 0; i < some4.length; i++)
      assert.equal(
        JSON.parse(batch.body.toString("utf8", batch.spans[2 * i], batch.spans[2 * i + 1])).message,
        `event ${i}`,
      );
    const some = encoder.encodeSome(batch, [1, 3]).toString();
    assert.deepEqual(some, encoder.encode([some4[1]!, some4[3]!]).toString());
    const first = Buffer.from(batch.body);
    encoder.release(batch);
    const again = encoder.encodeWithSpans(some4);
    assert.equal(again.body.buffer, batch.body.buffer, "a released body's memory is reused");
    assert.deepEqual(again.body, first);
  }
});
