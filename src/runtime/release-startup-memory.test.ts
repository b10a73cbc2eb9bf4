import assert from "node:assert/strict";
import { test } from "node:test";
import { getHeapSpaceStatistics } from "node:v8";
import { releaseStartupMemory } from "./release-startup-memory.ts";

const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!;

test("releaseStartupMemory shrinks the young generation the start grew, and exposes no gc()", () => {
  // Grow the young generation: allocations that survive a few scavenges.
  const kept: unknown[] = [];
  for (let i = 0; i < 200_000; i++) kept.push({ i, s: `x${i}` });
  const before = newSpace().space_size;
  releaseStartupMemory();
  assert.ok(newSpace().space_size < before, `${newSpace().space_size} >= ${before}`);
  assert.equal(kept.length, 200_000);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
});
