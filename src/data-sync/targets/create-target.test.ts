import assert from "node:assert/strict";
import { test } from "node:test";
import { deriveMemoryBudget } from "../../runtime/memory-budget.ts";
import { testMemoryPlan } from "../../runtime/testing.ts";
import { syncConfigSchema } from "../sync-config.ts";
import { tempDir } from "../testing/sync-fixture.ts";
import { createTarget } from "./create-target.ts";

function dirSection(path: string) {
  return syncConfigSchema.parse({ dataDir: "/data", target: { type: "dir", path } }).target;
}

test("a directory target copies small files on threads unless the memory budget allows none", async (t) => {
  const path = await tempDir(t, "create-target");
  const withThreads = createTarget(dirSection(path));
  const underSmallLimit = createTarget(dirSection(path), {
    copyThreads: deriveMemoryBudget(testMemoryPlan(64)).sync.copyThreads,
  });
  t.after(() => {
    withThreads.close();
    underSmallLimit.close();
  });
  assert.equal(typeof withThreads.putFiles, "function");
  assert.equal(underSmallLimit.putFiles, undefined, "no copy threads under a 64 Mi limit");
});
