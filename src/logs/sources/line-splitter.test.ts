import assert from "node:assert/strict";
import { test } from "node:test";
import type { SourceLine } from "../log-event.ts";
import { LineSplitter } from "./line-splitter.ts";

const texts = (lines: SourceLine[]) => lines.map((l) => l.text);
const offsets = (lines: SourceLine[]) => lines.map((l) => l.position.offset);

test("splits on newlines with the offset just past each newline", () => {
  const splitter = new LineSplitter({ streamId: "s", source: "a", offset: 100 });
  const out: SourceLine[] = [];
  splitter.push(Buffer.from("one\ntwo\nthr"), out);
  assert.deepEqual(texts(out), ["one", "two"]);
  assert.deepEqual(offsets(out), [104, 108]);
  splitter.push(Buffer.from("ee\n"), out);
  assert.deepEqual(texts(out), ["one", "two", "three"]);
  assert.deepEqual(offsets(out), [104, 108, 114]);
  assert.equal(splitter.offset, 114);
});

test("holds a partial line until flushPartial", () => {
  const splitter = new LineSplitter({ streamId: "s", source: "a" });
  const out: SourceLine[] = [];
  splitter.push(Buffer.from("no newline"), out);
  assert.equal(out.length, 0);
  assert.equal(splitter.partialBytes, 10);
  assert.equal(splitter.flushPartial(out), true);
  assert.deepEqual(texts(out), ["no newline"]);
  assert.deepEqual(offsets(out), [10]);
  assert.equal(splitter.flushPartial(out), false);
});

test("splits a long line into pieces marked truncated, never stalling", () => {
  let counted = 0;
  const splitter = new LineSplitter({
    streamId: "s",
    source: "a",
    maxLineBytes: 4,
    onLongLine: () => counted++,
  });
  const out: SourceLine[] = [];
  splitter.push(Buffer.from("abcdefghij\nok\n"), out);
  assert.deepEqual(texts(out), ["abcd", "efgh", "ij", "ok"]);
  assert.deepEqual(offsets(out), [4, 8, 11, 14]);
  assert.deepEqual(
    out.map((l) => l.truncated === true),
    [true, true, false, false],
  );
  assert.equal(counted, 2);
});

test("truncate mode keeps the head of a long line and skips the rest, across chunks", () => {
  const splitter = new LineSplitter({
    streamId: "s",
    source: "a",
    maxLineBytes: 4,
    longLines: "truncate",
  });
  const out: SourceLine[] = [];
  splitter.push(Buffer.from("abcdef"), out);
  splitter.push(Buffer.from("ghij"), out);
  splitter.push(Buffer.from("klm\nnext\n"), out);
  assert.deepEqual(texts(out), ["abcd", "next"]);
  assert.equal(out[0]!.truncated, true);
  assert.equal(out[1]!.position.offset, 19);
});

test("does not cut a UTF-8 character in two", () => {
  const splitter = new LineSplitter({ streamId: "s", source: "a", maxLineBytes: 4 });
  const out: SourceLine[] = [];
  splitter.push(Buffer.from("abcé\n"), out); // é is 2 bytes: a b c [c3 a9]
  assert.deepEqual(texts(out), ["abc", "é"]);
});
