import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEvent } from "../../log-event.ts";
import { lineFeeder } from "../shared/test-lines.ts";
import { createMultilineParser, multilineParserSchema } from "./index.ts";

const javaTrace = [
  "2024-01-01 00:00:00 ERROR request failed",
  'Exception in thread "main" java.lang.IllegalStateException: boom',
  "\tat com.example.App.run(App.java:10)",
  "\tat com.example.App.main(App.java:3)",
  "Caused by: java.io.IOException: disk",
  "\t... 2 more",
];

test("groups a Java stack trace under the line that starts it", () => {
  const p = createMultilineParser(
    multilineParserSchema.parse({ type: "multiline", startPattern: "^\\d{4}-\\d{2}-\\d{2} " }),
  );
  const feed = lineFeeder();
  const out: LogEvent[] = [];
  for (const text of javaTrace) out.push(...p.push(feed(text)));
  assert.equal(out.length, 0, "the group is held until the next start");
  const next = feed("2024-01-01 00:00:01 INFO next");
  out.push(...p.push(next));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.message, javaTrace.join("\n"));
  assert.equal(out[0]!.fields.lines, 6);
  const flushed = p.flush("/var/log/app.log");
  assert.equal(flushed[0]!.message, "2024-01-01 00:00:01 INFO next");
  assert.deepEqual(flushed[0]!.position, next.position);
  assert.equal(p.flushTimeoutMs, 1000);
});

test("continuation pattern mode: indented and Caused by lines continue", () => {
  const p = createMultilineParser(
    multilineParserSchema.parse({
      type: "multiline",
      continuationPattern: "^(\\s|Caused by:)",
    }),
  );
  const feed = lineFeeder();
  const out: LogEvent[] = [];
  for (const text of javaTrace.slice(1)) out.push(...p.push(feed(text)));
  out.push(...p.flush());
  assert.deepEqual(
    out.map((e) => e.message),
    [javaTrace.slice(1).join("\n")],
  );
});

test("the position of an emitted group never passes the first line of the held group", () => {
  const p = createMultilineParser(
    multilineParserSchema.parse({ type: "multiline", startPattern: "^\\S" }),
  );
  const feed = lineFeeder();
  p.push(feed("first"));
  const second = feed("second");
  const [first] = p.push(second);
  assert.equal(first!.message, "first");
  assert.ok(first!.position.offset < second.position.offset);
});

test("CRI inside: partial lines are joined first, then stack traces grouped per stream", () => {
  const p = createMultilineParser(
    multilineParserSchema.parse({
      type: "multiline",
      startPattern: "^\\S",
      parser: { type: "cri" },
    }),
  );
  const feed = lineFeeder();
  const lines = [
    "2024-01-01T00:00:00Z stderr P Exception in ",
    "2024-01-01T00:00:00Z stdout F plain stdout line",
    "2024-01-01T00:00:00Z stderr F thread main",
    "2024-01-01T00:00:00Z stderr F \tat A.b(A.java:1)",
    "2024-01-01T00:00:00Z stderr F \tat A.c(A.java:2)",
  ];
  const out: LogEvent[] = [];
  for (const text of lines) out.push(...p.push(feed(text)));
  out.push(...p.flush());
  const byStream = Object.fromEntries(out.map((e) => [e.fields.stream, e.message]));
  assert.equal(byStream.stderr, "Exception in thread main\n\tat A.b(A.java:1)\n\tat A.c(A.java:2)");
  assert.equal(byStream.stdout, "plain stdout line");
  const stdout = out.find((e) => e.fields.stream === "stdout")!;
  assert.equal(stdout.position.offset, 0, "held stderr piece keeps the checkpoint at its start");
});

test("emits at maxLines so a never-ending trace cannot grow without bound", () => {
  const p = createMultilineParser(
    multilineParserSchema.parse({ type: "multiline", startPattern: "^\\S", maxLines: 3 }),
  );
  const feed = lineFeeder();
  const out: LogEvent[] = [];
  out.push(...p.push(feed("start")));
  for (let i = 0; i < 5; i++) out.push(...p.push(feed(` cont ${i}`)));
  out.push(...p.flush());
  assert.equal(
    out.map((e) => e.message).join("\n"),
    ["start", ...[0, 1, 2, 3, 4].map((i) => ` cont ${i}`)].join("\n"),
  );
  assert.equal(out[0]!.fields.lines, 3);
});

test("config without any pattern is rejected", () => {
  assert.equal(multilineParserSchema.safeParse({ type: "multiline" }).success, false);
  assert.equal(
    multilineParserSchema.safeParse({ type: "multiline", startPattern: "(" }).success,
    false,
  );
});
