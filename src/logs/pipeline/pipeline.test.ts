import assert from "node:assert/strict";
import { test } from "node:test";
import type { Parser, SourceLine } from "../log-event.ts";
import { createNoneParser } from "../parsers/none/index.ts";
import { Pipeline, type PipelineSource } from "./pipeline.ts";
import { MemorySink, memoryLogger, until } from "./testing/memory-sink.ts";

function lines(streamId: string, texts: string[], start = 0): SourceLine[] {
  let offset = start;
  return texts.map((text) => {
    offset += text.length + 1;
    return { text, source: "/a.log", position: { streamId, offset }, readAt: 0 };
  });
}

function source(parser: Parser = createNoneParser()) {
  const commits: [string, number][] = [];
  const s: PipelineSource = {
    name: "test",
    parser,
    commit: (streamId, offset) => commits.push([streamId, offset]),
  };
  return { s, commits };
}

test("commits a position only after every sink acknowledged it", async () => {
  const fast = new MemorySink("fast");
  const slow = new MemorySink("slow");
  slow.pause();
  const pipeline = new Pipeline({
    sinks: [fast, slow],
    transforms: [],
    logger: memoryLogger().logger,
  });
  const { s, commits } = source();
  await pipeline.accept(s, lines("f", ["a", "b"]));
  await until(() => fast.events.length === 2, "fast sink");
  assert.deepEqual(commits, []);
  slow.resume();
  await until(() => commits.length === 1, "commit");
  assert.deepEqual(commits, [["f", 4]]);
});

test("commits in hand-off order even when later batches are acknowledged first", async () => {
  const sink = new MemorySink();
  sink.pause();
  const pipeline = new Pipeline({ sinks: [sink], transforms: [], logger: memoryLogger().logger });
  const { s, commits } = source();
  await pipeline.accept(s, lines("f", ["a"]));
  const first = sink.writes;
  await pipeline.accept(s, lines("f", ["b"], 2));
  assert.equal(sink.writes, first + 1);
  sink.resume();
  await until(() => commits.length >= 1 && commits.at(-1)![1] === 4, "commit");
  for (const [, offset] of commits) assert.ok(offset === 2 || offset === 4);
});

test("events dropped by a transform count as acknowledged", async () => {
  const sink = new MemorySink();
  const pipeline = new Pipeline({
    sinks: [sink],
    transforms: [(event) => (event.message === "drop" ? null : event)],
    logger: memoryLogger().logger,
  });
  const { s, commits } = source();
  await pipeline.accept(s, lines("f", ["keep", "drop"]));
  await until(() => commits.length === 1, "commit");
  assert.deepEqual(commits, [["f", 10]]);
  assert.deepEqual(sink.messages(), ["keep"]);
  await pipeline.accept(s, lines("f", ["drop"], 10));
  await until(() => commits.length === 2, "commit of an all-dropped batch");
  assert.deepEqual(commits[1], ["f", 15]);
});

test("a full buffer holds accept() until the sinks acknowledge (reading pauses, memory bounded)", async () => {
  const sink = new MemorySink();
  sink.pause();
  const pipeline = new Pipeline({
    sinks: [sink],
    transforms: [],
    maxBufferBytes: 1000,
    logger: memoryLogger().logger,
  });
  const { s } = source();
  const big = "x".repeat(600);
  await pipeline.accept(s, lines("f", [big]));
  let resolved = false;
  const second = pipeline.accept(s, lines("f", [big], 601)).then(() => {
    resolved = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(resolved, false, "accept waits while the buffer is full");
  assert.ok(pipeline.bufferedBytes <= 1000 + 601 + 1);
  sink.resume();
  await second;
  await until(() => pipeline.bufferedBytes === 0, "buffer drained");
});

test("a rejected write never moves the checkpoint past its lines", async () => {
  const sink = new MemorySink();
  sink.fail = true;
  const pipeline = new Pipeline({ sinks: [sink], transforms: [], logger: memoryLogger().logger });
  const { s, commits } = source();
  await pipeline.accept(s, lines("f", ["a"]));
  sink.fail = false;
  await pipeline.accept(s, lines("f", ["b"], 2));
  await until(() => sink.events.length === 1, "second write");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(commits, []);
  assert.equal(pipeline.failedEvents, 1);
});

test("drain waits for every hand-off, and flushes lines a parser holds", async () => {
  const sink = new MemorySink();
  sink.delayMs = 30;
  const held: SourceLine[] = [];
  const holding: Parser = {
    push: (line) => {
      held.push(line);
      return [];
    },
    flush: () =>
      held.splice(0).map((line) => ({
        message: line.text,
        timestamp: 0,
        fields: {},
        source: line.source,
        position: line.position,
      })),
  };
  const pipeline = new Pipeline({ sinks: [sink], transforms: [], logger: memoryLogger().logger });
  const { s, commits } = source(holding);
  await pipeline.accept(s, lines("f", ["a", "b"]));
  assert.deepEqual(commits, []);
  await pipeline.drain(AbortSignal.timeout(5000));
  assert.deepEqual(sink.messages(), ["a", "b"]);
  assert.deepEqual(commits.at(-1), ["f", 4]);
});
