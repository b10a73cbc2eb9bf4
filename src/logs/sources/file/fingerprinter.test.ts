import assert from "node:assert/strict";
import { test } from "node:test";
import { Fingerprinter } from "./fingerprinter.ts";

test("a file's fingerprint does not change as it grows", () => {
  const fp = new Fingerprinter({ maxBytes: 64 });
  const a = fp.ofPrefix(Buffer.from("first line\n"));
  assert.ok(a);
  assert.equal(fp.ofPrefix(Buffer.from("first line\nsecond line\n")), a);
});

test("has no fingerprint until the first line is complete or maxBytes long", () => {
  const fp = new Fingerprinter({ maxBytes: 16 });
  assert.equal(fp.ofPrefix(Buffer.from("")), undefined);
  assert.equal(fp.ofPrefix(Buffer.from("partial")), undefined);
  const long = fp.ofPrefix(Buffer.from("x".repeat(16)));
  assert.ok(long);
  assert.equal(fp.ofPrefix(Buffer.from(`${"x".repeat(16)}yyyy`)), long);
});

test("different first lines give different fingerprints", () => {
  const fp = new Fingerprinter();
  assert.notEqual(fp.ofPrefix(Buffer.from("a\n")), fp.ofPrefix(Buffer.from("b\n")));
});
