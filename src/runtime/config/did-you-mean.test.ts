import assert from "node:assert/strict";
import { test } from "node:test";
import { didYouMean, editDistance } from "./did-you-mean.ts";

test("edit distance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("adress", "address"), 1);
  assert.equal(editDistance("shutdwn", "shutdown"), 1);
  assert.equal(editDistance("abc", "abc"), 0);
  assert.equal(editDistance("", "abc"), 3);
});

test("suggests the closest key only when it is a likely typo", () => {
  assert.equal(didYouMean("gracePeriod", ["gracePeriodSeconds", "x"]), undefined);
  assert.equal(didYouMean("restar", ["restart", "health"]), "restart");
  assert.equal(didYouMean("zzzzzz", ["restart", "health"]), undefined);
});
