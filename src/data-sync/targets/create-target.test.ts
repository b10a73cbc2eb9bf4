import assert from "node:assert/strict";
import { test } from "node:test";
import { deriveMemoryBudget } from "../../runtime/memory-budget.ts";
import { syncConfigSchema } from "../sync-config.ts";
import { tempDir } from "../testing/sync-fixture.ts";
import { createTarget } from "./create-target.ts";

const MiB = 1024 * 1024;

function dirSection(path: string) {
  return syncConfigSchema.parse({ dataDir: "/data", target: { type: "dir", path } }).target;
}

test("a directory target copies small files on threads unless the memory budget allows none", async (t) => {
  const path = await tempDir(t, "create-target");
  const plan = (limitMiB: number) => ({
    limitBytes: limitMiB * MiB,
    source: "test",
    budgetShare: 0.75,
    budgetBytes: limitMiB * 0.75 * MiB,
    maxOldSpaceMiB: 24,
    semiSpaceMiB: 1,
    tooSmall: false,
  });
  const withThreads = createTarget(dirSection(path));
  const underSmallLimit = createTarget(dirSection(path), {
    copyThreads: deriveMemoryBudget(plan(64)).sync.copyThreads,
  });
  t.after(() => {
    withThreads.close();
    underSmallLimit.close();
  });
  assert.equal(typeof withThreads.putFiles, "function");
  assert.equal(underSmallLimit.putFiles, undefined, "no copy threads under a 64 Mi limit");
});
