import assert from "node:assert/strict";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { SidecarError } from "../runtime/errors.ts";
import { testRoleContext, until } from "../runtime/testing.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import { type SyncConfigInput, syncConfigSchema } from "./sync-config.ts";
import { createSyncRole } from "./sync-role.ts";
import { DirTarget } from "./targets/dir.ts";
import { readLatest, tempDir, wrapTarget, writeFiles } from "./testing/sync-fixture.ts";

function config(dataDir: string, targetDir: string, extra: Partial<SyncConfigInput> = {}) {
  return syncConfigSchema.parse({
    dataDir,
    target: { type: "dir", path: targetDir },
    debounceSeconds: 0.05,
    intervalSeconds: 0,
    retry: { initialSeconds: 0.02, maxSeconds: 0.1 },
    ...extra,
  });
}

test("syncs at start, after a change, and a last time at stop; /sync/status says so", async (t) => {
  const dataDir = await tempDir(t, "data");
  const targetDir = await tempDir(t, "target");
  await writeFiles(dataDir, { "a.txt": "alpha" });
  const ctx = testRoleContext();
  const role = createSyncRole(config(dataDir, targetDir), ctx);
  t.after(() => role.stop(AbortSignal.timeout(5000)));
  await role.start();
  assert.equal(role.ready(), true);
  await until(
    async () => (await readLatest(targetDir).catch(() => undefined))?.version === 1,
    "version 1",
  );
  await writeFile(join(dataDir, "b.txt"), "bravo");
  await until(async () => (await readLatest(targetDir)).files.length === 2, "the change synced");
  await writeFile(join(dataDir, "c.txt"), "written just before the stop");
  await role.stop(AbortSignal.timeout(5000));
  const latest = await readLatest(targetDir);
  assert.deepEqual(
    latest.files.map((f) => f.path),
    ["a.txt", "b.txt", "c.txt"],
    "the final pass has it",
  );

  const route = ctx.routes.find("/sync/status");
  assert.ok(route);
  const status = role.status();
  assert.equal(status.version, latest.version);
  assert.equal(status.files, 3);
  assert.equal(status.lagSeconds, 0);
  assert.ok(status.lastSuccessAt);
  const figures = await ctx.routes.panels[0]!.figures();
  assert.ok(figures.some((f) => f.label === "version" && f.value === String(latest.version)));
  const metrics = await ctx.registry.metrics();
  assert.match(metrics, /sidecar_sync_files_copied_total 3/);
  assert.match(metrics, /sidecar_sync_manifest_files 3/);
});

test("the watch finds changes at any depth, in directories made or moved in after it started", async (t) => {
  const dataDir = await tempDir(t, "data");
  const targetDir = await tempDir(t, "target");
  const outside = await tempDir(t, "outside");
  await writeFiles(dataDir, { "a.txt": "alpha", "keep/b.txt": "bravo" });
  const role = createSyncRole(config(dataDir, targetDir), testRoleContext());
  t.after(() => role.stop(AbortSignal.timeout(5000)));
  await role.start();
  const paths = async () =>
    (await readLatest(targetDir).catch(() => undefined))?.files
      .filter((f) => !f.deletedAt)
      .map((f) => f.path)
      .join(",");
  await until(async () => (await paths()) === "a.txt,keep/b.txt", "version 1");
  await writeFiles(dataDir, { "new/deep/c.txt": "charlie" });
  await writeFiles(outside, { "moved/d.txt": "delta" });
  await rename(join(outside, "moved"), join(dataDir, "keep/moved"));
  await until(
    async () => (await paths()) === "a.txt,keep/b.txt,keep/moved/d.txt,new/deep/c.txt",
    "the new and the moved-in directories synced",
  );
  await writeFile(join(dataDir, "keep/moved/e.txt"), "echo");
  await rm(join(dataDir, "new"), { recursive: true });
  await until(
    async () => (await paths()) === "a.txt,keep/b.txt,keep/moved/d.txt,keep/moved/e.txt",
    "a file in the moved-in directory synced, the removed directory marked deleted",
  );
});

test("restores an empty data directory before it reports started, and leaves a full one alone", async (t) => {
  const source = await tempDir(t, "data");
  const targetDir = await tempDir(t, "target");
  await writeFiles(source, { "db/app.db": "rows" });
  const first = createSyncRole(config(source, targetDir), testRoleContext());
  await first.start();
  await first.stop(AbortSignal.timeout(5000));

  const fresh = join(await tempDir(t, "fresh"), "data");
  const role = createSyncRole(config(fresh, targetDir), testRoleContext());
  await role.start();
  assert.equal(
    await readFile(join(fresh, "db/app.db"), "utf8"),
    "rows",
    "restored before start resolved",
  );
  assert.deepEqual(role.status().restored, { version: 1, files: 1 });
  await role.stop(AbortSignal.timeout(5000));

  const full = await tempDir(t, "full");
  await writeFiles(full, { "other.txt": "mine" });
  const ctx = testRoleContext();
  const untouched = createSyncRole(config(full, await tempDir(t, "target2")), ctx);
  await untouched.start();
  await untouched.stop(AbortSignal.timeout(5000));
  assert.equal(await readFile(join(full, "other.txt"), "utf8"), "mine");
});

test("a target that is down is retried with backoff; nothing is recorded until it is back", async (t) => {
  const dataDir = await tempDir(t, "data");
  const targetDir = await tempDir(t, "target");
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo" });
  let down = true;
  let refused = 0;
  const refuse = async () => {
    refused += 1;
    throw new SidecarError(SyncErrorCodes.TARGET, "Cannot write: connect ECONNREFUSED 127.0.0.1:9");
  };
  const base = new DirTarget(targetDir);
  const target = wrapTarget(base, {
    putStream: (key, open, size) => (down ? refuse() : base.putStream(key, open, size)),
    put: (key, data) => (down ? refuse() : base.put(key, data)),
  });
  const ctx = testRoleContext();
  const role = createSyncRole(config(dataDir, targetDir, { restore: { onStart: false } }), ctx, {
    target,
  });
  t.after(() => role.stop(AbortSignal.timeout(5000)));
  await role.start();
  await until(() => refused >= 6, "three passes refused");
  assert.equal(
    await readLatest(targetDir).catch(() => undefined),
    undefined,
    "no version while down",
  );
  assert.equal(role.status().lastError?.kind, "target");
  assert.ok(role.status().lagSeconds >= 0);
  const errors = /sidecar_sync_errors_total\{kind="target"\} (\d+)/.exec(
    await ctx.registry.metrics(),
  );
  assert.ok(Number(errors?.[1]) >= 2, "errors counted by kind");
  down = false;
  await until(
    async () => (await readLatest(targetDir).catch(() => undefined))?.files.length === 2,
    "synced once back",
  );
  // The manifest is visible before the pass has finished its bookkeeping.
  await until(() => role.status().lagSeconds === 0, "no lag once the pass ends");
  assert.ok(
    ctx
      .logLines()
      .some((line) => line.msg === "sync failed; the last version at the target is unchanged"),
  );
});

test("once: one pass, then asks the runtime to stop with exit code 0", async (t) => {
  const dataDir = await tempDir(t, "data");
  const targetDir = await tempDir(t, "target");
  await writeFiles(dataDir, { "a.txt": "alpha" });
  const ctx = testRoleContext();
  const role = createSyncRole(config(dataDir, targetDir, { once: true }), ctx);
  await role.start();
  await until(() => ctx.stopRequests.length === 1, "a stop request");
  assert.deepEqual(ctx.stopRequests, [{ reason: "sync --once done", exitCode: 0 }]);
  await role.stop(AbortSignal.timeout(5000));
  assert.equal((await readLatest(targetDir)).version, 1);
});
