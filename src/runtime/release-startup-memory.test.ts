import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

// Run as `sidecar` runs it: with --expose-gc from the start (bin/v8-flags.js).
const script = `
import { getHeapSpaceStatistics } from "node:v8";
import { releaseStartupMemory } from ${JSON.stringify(new URL("./release-startup-memory.ts", import.meta.url).href)};
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
const kept = [];
for (let i = 0; i < 200_000; i++) kept.push({ i, s: "x" + i });
const before = newSpace();
releaseStartupMemory();
console.log(JSON.stringify({ before, after: newSpace(), kept: kept.length, gc: typeof globalThis.gc }));
`;

/** Runs `source` as `sidecar` runs (with --expose-gc); the JSON line it printed. */
function runWithExposedGc<T>(source: string): T {
  const run = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", source], {
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

test("releaseStartupMemory shrinks the young generation the start grew, and leaves no gc()", () => {
  const result = runWithExposedGc<{ before: number; after: number; kept: number; gc: string }>(
    script,
  );
  assert.ok(result.after < result.before, `${result.after} >= ${result.before}`);
  assert.equal(result.kept, 200_000);
  assert.equal(result.gc, "undefined");
});

test("without --expose-gc it does nothing and does not fail", async () => {
  const { releaseStartupMemory } = await import("./release-startup-memory.ts");
  assert.doesNotThrow(() => releaseStartupMemory());
});

const again = `
import { getHeapSpaceStatistics } from "node:v8";
import { releaseMemory, releaseStartupMemory } from ${JSON.stringify(new URL("./release-startup-memory.ts", import.meta.url).href)};
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
releaseStartupMemory();
const kept = [];
for (let i = 0; i < 200_000; i++) kept.push({ i, s: "x" + i });
const before = newSpace();
const ran = releaseMemory();
console.log(JSON.stringify({ before, after: newSpace(), ran, gc: typeof globalThis.gc }));
`;

test("releaseMemory collects again later with the gc() taken at start", () => {
  const result = runWithExposedGc<{ before: number; after: number; ran: boolean; gc: string }>(
    again,
  );
  assert.equal(result.ran, true);
  assert.ok(result.after < result.before, `${result.after} >= ${result.before}`);
  assert.equal(result.gc, "undefined");
});
