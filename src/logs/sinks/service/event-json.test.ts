import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEvent } from "../../log-event.ts";
import { eventJson, eventJsonText, isoTime } from "./event-json.ts";

test("isoTime matches toISOString, including before 1970 and across seconds", () => {
  for (const t of [
    0,
    1,
    999,
    1000,
    -1,
    -1001,
    1_700_000_000_123.9,
    Date.UTC(2024, 0, 1, 23, 59, 59, 999),
  ])
    assert.equal(isoTime(t), new Date(Math.floor(t)).toISOString(), String(t));
  assert.equal(isoTime(Number.NaN), "1970-01-01T00:00:00.000Z");
  assert.equal(isoTime(1e20), "1970-01-01T00:00:00.000Z");
});

test("eventJsonText is the JSON of eventJson, without building it", () => {
  const events: LogEvent[] = [
    {
      message: 'say "hi"\n',
      timestamp: 1,
      fields: {},
      source: "/a",
      position: { streamId: "a", offset: 1 },
    },
    {
      message: "m",
      timestamp: 2,
      level: "warn",
      parseError: "bad",
      fields: { user: "ann", n: 1, nested: { a: [1, null] }, gone: undefined, 'we"ird': true },
      source: "/b",
      position: { streamId: "b", offset: 2 },
    },
  ];
  for (const event of events) {
    assert.deepEqual(
      JSON.parse(eventJsonText(event)),
      JSON.parse(JSON.stringify(eventJson(event))),
    );
    assert.deepEqual(
      JSON.parse(eventJsonText(event, "@timestamp")),
      JSON.parse(JSON.stringify(eventJson(event, "@timestamp"))),
    );
  }
});
