import assert from "node:assert/strict";
import { test } from "node:test";
import type { SourceLine } from "../../log-event.ts";
import { lineFeeder } from "../shared/test-lines.ts";
import { createCriParser, criParserSchema } from "./index.ts";

const parser = () => createCriParser(criParserSchema.parse({ type: "cri" }));

test("joins P…P F pieces of one stream into one event with the first time and last position", () => {
  const p = parser();
  const feed = lineFeeder();
  assert.deepEqual(p.push(feed("2016-10-06T00:17:09.669794202Z stdout P hello ")), []);
  assert.deepEqual(p.push(feed("2016-10-06T00:17:09.7Z stdout P big ")), []);
  const last = feed("2016-10-06T00:17:10Z stdout F world");
  const [event, ...rest] = p.push(last);
  assert.equal(rest.length, 0);
  assert.equal(event!.message, "hello big world");
  assert.equal(event!.timestamp, Date.UTC(2016, 9, 6, 0, 17, 9, 669));
  assert.deepEqual(event!.position, last.position);
  assert.equal(event!.fields.stream, "stdout");
  assert.equal(event!.parseError, undefined);
});

test("joins stdout and stderr separately and keeps positions behind the held partial line", () => {
  const p = parser();
  const feed = lineFeeder();
  const partial = feed("2024-01-01T00:00:00Z stdout P out-1 ");
  assert.deepEqual(p.push(partial), []);
  const err = p.push(feed("2024-01-01T00:00:01Z stderr F err-whole"));
  assert.equal(err.length, 1);
  assert.equal(err[0]!.message, "err-whole");
  assert.equal(err[0]!.fields.stream, "stderr");
  assert.equal(err[0]!.position.offset, 0, "a checkpoint may not pass the held stdout piece");
  const outLast = feed("2024-01-01T00:00:02Z stdout F out-2");
  const out = p.push(outLast);
  assert.equal(out[0]!.message, "out-1 out-2");
  assert.equal(out[0]!.position.offset, outLast.position.offset);
});

test("tags after a colon are accepted (P:x / F:x) and empty content is fine", () => {
  const p = parser();
  const feed = lineFeeder();
  assert.deepEqual(p.push(feed("2024-01-01T00:00:00Z stdout P:x a")), []);
  assert.equal(p.push(feed("2024-01-01T00:00:00Z stdout F:x"))[0]!.message, "a");
  assert.equal(p.push(feed("2024-01-01T00:00:00Z stdout F "))[0]!.message, "");
});

test("keeps a non-CRI line as raw text with parseError", () => {
  const [event] = parser().push(lineFeeder()("just some text"));
  assert.equal(event!.message, "just some text");
  assert.match(event!.parseError!, /not a CRI log line/);
});

test("flush(source) emits the held pieces of that source only, marked partial", () => {
  const p = parser();
  const a = lineFeeder("/a.log", "a");
  const b = lineFeeder("/b.log", "b");
  p.push(a("2024-01-01T00:00:00Z stdout P from-a"));
  p.push(b("2024-01-01T00:00:00Z stdout P from-b"));
  const flushed = p.flush("/a.log");
  assert.deepEqual(
    flushed.map((e) => [e.message, e.fields.partial]),
    [["from-a", true]],
  );
  assert.equal(p.flush()[0]!.message, "from-b");
});

test("a very long run of partial pieces is emitted at maxMessageBytes, nothing dropped", () => {
  const p = createCriParser(criParserSchema.parse({ type: "cri", maxMessageBytes: 1024 }));
  const feed = lineFeeder();
  const piece = "x".repeat(300);
  const out = [];
  let last: SourceLine | undefined;
  for (let i = 0; i < 10; i++) {
    last = feed(`2024-01-01T00:00:00Z stdout P ${piece}`);
    out.push(...p.push(last));
  }
  out.push(...p.push(feed("2024-01-01T00:00:00Z stdout F end")));
  assert.equal(out.map((e) => e.message).join(""), `${piece.repeat(10)}end`);
  assert.ok(out.length >= 3);
  assert.equal(out[0]!.fields.partial, true);
});

test("content parser: JSON logged by the app inside CRI lines, joined first", () => {
  const p = createCriParser(criParserSchema.parse({ type: "cri", parser: { type: "json" } }));
  const feed = lineFeeder();
  assert.deepEqual(p.push(feed('2024-01-01T00:00:00Z stdout P {"msg":"hel')), []);
  const [event] = p.push(feed('2024-01-01T00:00:01Z stdout F lo","level":"warn","user":"ann"}'));
  assert.equal(event!.message, "hello");
  assert.equal(event!.level, "warn");
  assert.equal(event!.timestamp, Date.UTC(2024, 0, 1), "no time in the JSON: the CRI time");
  assert.deepEqual(event!.fields, { stream: "stdout", user: "ann" });
  const [plain] = p.push(feed("2024-01-01T00:00:02Z stderr F not json"));
  assert.equal(plain!.message, "not json");
  assert.equal(plain!.fields.stream, "stderr");
  assert.match(plain!.parseError!, /invalid JSON/);
});
