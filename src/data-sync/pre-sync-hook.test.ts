import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runPreSyncHook } from "./pre-sync-hook.ts";
import { readLatest, syncFixture, tempDir } from "./testing/sync-fixture.ts";

test("runs in the data directory before the pass, so what it writes is synced", async (t) => {
  const preSync = {
    command: ["sh", "-c", 'echo "snapshot of $SIDECAR_SYNC_DATA_DIR" > snap.db'],
    timeoutSeconds: 10,
  };
  const { dataDir, targetDir, syncer } = await syncFixture(t, { preSync });
  await syncer.run();
  assert.equal(await readFile(join(dataDir, "snap.db"), "utf8"), `snapshot of ${dataDir}\n`);
  assert.deepEqual(
    (await readLatest(targetDir)).files.map((f) => f.path),
    ["snap.db"],
  );
});

test("a failing hook fails the pass with SIDECAR_ERR_SYNC_HOOK and its stderr; nothing is recorded", async (t) => {
  const preSync = {
    command: ["sh", "-c", "echo database is locked >&2; exit 3"],
    timeoutSeconds: 10,
  };
  const { targetDir, syncer } = await syncFixture(t, { preSync });
  await assert.rejects(syncer.run(), (error: Error & { code: string }) => {
    assert.equal(error.code, "SIDECAR_ERR_SYNC_HOOK");
    assert.match(error.message, /exited with code 3: database is locked/);
    return true;
  });
  await assert.rejects(readLatest(targetDir), { code: "ENOENT" });
});

test("a hook past its timeout is killed; a missing command says so", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(
    runPreSyncHook({ command: ["sleep", "5"], timeoutSeconds: 0.2 }, dir),
    /was stopped by SIGKILL \(timeout 0\.2 s\)/,
  );
  await assert.rejects(
    runPreSyncHook({ command: ["no-such-command-xyz"], timeoutSeconds: 1 }, dir),
    /could not run/,
  );
});
