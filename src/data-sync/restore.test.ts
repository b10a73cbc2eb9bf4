import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { captureLogger } from "../runtime/testing.ts";
import { objectKey } from "./manifest.ts";
import { incompleteMarker, restore } from "./restore.ts";
import { syncFixture, tempDir, writeFiles } from "./testing/sync-fixture.ts";

async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = await readFile(path, "utf8");
  }
  return files;
}

async function backedUp(t: import("node:test").TestContext, files: Record<string, string>) {
  const fixture = await syncFixture(t);
  await writeFiles(fixture.dataDir, files);
  await fixture.syncer.run();
  return fixture;
}

test("restores into a missing directory: every file, its mode and its mtime", async (t) => {
  const { dataDir, target } = await backedUp(t, { "a.txt": "alpha", "db/app.db": "beta" });
  const into = join(await tempDir(t, "restore"), "data");
  const { logger } = captureLogger();
  const result = await restore({ dataDir: into, target, logger });
  assert.equal(result.status, "restored");
  assert.deepEqual(await tree(into), { "a.txt": "alpha", "db/app.db": "beta" });
  const [source, restored] = await Promise.all([
    stat(join(dataDir, "db/app.db")),
    stat(join(into, "db/app.db")),
  ]);
  assert.equal(restored.mtimeMs, source.mtimeMs);
  assert.equal(restored.mode, source.mode);
  assert.deepEqual(await readdir(join(into, "..")), ["data"], "no staging directory left");
});

test("restores into an empty directory, and the next sync finds nothing to copy", async (t) => {
  const { target } = await backedUp(t, { "a.txt": "alpha" });
  const into = await tempDir(t, "restore");
  const { logger } = captureLogger();
  assert.equal((await restore({ dataDir: into, target, logger })).status, "restored");
  assert.deepEqual(await tree(into), { "a.txt": "alpha" });
  const { Syncer } = await import("./syncer.ts");
  const { pathFilter } = await import("./path-filter.ts");
  const syncer = new Syncer({
    dataDir: into,
    target,
    filter: pathFilter(["**"], []),
    deletes: "keep",
    retention: { versions: 10, maxAgeHours: 0 },
    logger,
  });
  const result = await syncer.run();
  assert.equal(result.published, false, "restored files match the manifest by size and mtime");
});

test("refuses a directory that is not empty, and replaces it with force", async (t) => {
  const { target } = await backedUp(t, { "a.txt": "alpha" });
  const into = await tempDir(t, "restore");
  await writeFiles(into, { "mine.txt": "keep me", "sub/x": "y" });
  const { logger } = captureLogger();
  assert.equal((await restore({ dataDir: into, target, logger })).status, "not-empty");
  assert.deepEqual(await tree(into), { "mine.txt": "keep me", "sub/x": "y" });
  assert.equal((await restore({ dataDir: into, target, logger, force: true })).status, "restored");
  assert.deepEqual(await tree(into), { "a.txt": "alpha" });
});

test("says there is nothing to restore when the target is empty", async (t) => {
  const { target } = await syncFixture(t);
  const into = await tempDir(t, "restore");
  const { logger } = captureLogger();
  const result = await restore({ dataDir: into, target, logger });
  assert.deepEqual(result, { status: "nothing-to-restore", reason: "the target holds no backup" });
});

test("restores a point in time or a version number; deleted-but-kept files only when asked", async (t) => {
  let now = Date.parse("2026-11-27T10:00:00Z");
  const fixture = await syncFixture(t, { now: () => now });
  await writeFiles(fixture.dataDir, { "a.txt": "v1", "b.txt": "bee" });
  await fixture.syncer.run();
  now += 3_600_000;
  await writeFile(join(fixture.dataDir, "a.txt"), "version 2");
  await rm(join(fixture.dataDir, "b.txt"));
  await fixture.syncer.run();
  const { logger } = captureLogger();
  const restoreInto = async (options: object) => {
    const into = join(await tempDir(t, "restore"), "data");
    const result = await restore({ dataDir: into, target: fixture.target, logger, ...options });
    return { result, files: result.status === "restored" ? await tree(into) : {} };
  };
  assert.deepEqual((await restoreInto({})).files, { "a.txt": "version 2" });
  assert.deepEqual((await restoreInto({ includeDeleted: true })).files, {
    "a.txt": "version 2",
    "b.txt": "bee",
  });
  assert.deepEqual((await restoreInto({ at: Date.parse("2026-11-27T10:30:00Z") })).files, {
    "a.txt": "v1",
    "b.txt": "bee",
  });
  assert.deepEqual((await restoreInto({ version: 1 })).files, { "a.txt": "v1", "b.txt": "bee" });
  assert.equal(
    (await restoreInto({ at: Date.parse("2026-11-27T09:00:00Z") })).result.status,
    "nothing-to-restore",
  );
  assert.equal((await restoreInto({ version: 7 })).result.status, "nothing-to-restore");
});

test("a corrupted object at the target fails the restore with SIDECAR_ERR_SYNC_VERIFY and changes nothing", async (t) => {
  const { target, targetDir } = await backedUp(t, { "a.txt": "alpha", "b.txt": "bravo" });
  const { createHash } = await import("node:crypto");
  const sha = createHash("sha256").update("bravo").digest("hex");
  await writeFile(join(targetDir, objectKey(sha)), "brav0");
  const into = await tempDir(t, "restore");
  const { logger } = captureLogger();
  await assert.rejects(
    restore({ dataDir: into, target, logger }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "SIDECAR_ERR_SYNC_VERIFY");
      assert.match(error.message, /b\.txt.*corrupt: SHA-256/);
      return true;
    },
  );
  assert.deepEqual(await readdir(into), [], "nothing restored, no staging left");
});

test("a missing object fails the restore with SIDECAR_ERR_SYNC_TARGET", async (t) => {
  const { target, targetDir } = await backedUp(t, { "a.txt": "alpha" });
  await rm(join(targetDir, "objects"), { recursive: true });
  const into = join(await tempDir(t, "restore"), "data");
  const { logger } = captureLogger();
  await assert.rejects(restore({ dataDir: into, target, logger }), {
    code: "SIDECAR_ERR_SYNC_TARGET",
  });
});

test("a restore interrupted while moving files in is started over, even though the directory is not empty", async (t) => {
  const { target } = await backedUp(t, { "a.txt": "alpha", "b.txt": "bravo" });
  const into = await tempDir(t, "restore");
  await writeFiles(into, { "a.txt": "alpha", [incompleteMarker]: "x" });
  await mkdir(join(into, ".sidecar-restore-0123"));
  const { logger } = captureLogger();
  assert.equal((await restore({ dataDir: into, target, logger })).status, "restored");
  assert.deepEqual(await tree(into), { "a.txt": "alpha", "b.txt": "bravo" });
});

test("a volume holding only lost+found counts as empty, and lost+found stays where it is", async (t) => {
  const { target } = await backedUp(t, { "a.txt": "alpha" });
  const into = await tempDir(t, "restore");
  await mkdir(join(into, "lost+found"));
  const { logger } = captureLogger();
  assert.equal((await restore({ dataDir: into, target, logger })).status, "restored");
  assert.deepEqual((await readdir(into)).sort(), ["a.txt", "lost+found"]);
});

test("restores files packed by the copy threads, each checked, and a corrupted pack byte fails it", async (t) => {
  const fixture = await syncFixture(t, { copyThreadsFrom: 1 });
  const files: Record<string, string> = { "empty.txt": "" };
  for (let i = 0; i < 40; i++) files[`d${i % 3}/f${i}.txt`] = `content of file ${i}\n`.repeat(i);
  await writeFiles(fixture.dataDir, files);
  await fixture.syncer.run();
  const manifest = fixture.syncer.current!;
  assert.ok(
    manifest.files.every((entry) => entry.pack),
    "every file packed, the empty one included",
  );
  const { logger } = captureLogger();
  const into = join(await tempDir(t, "restore"), "data");
  assert.equal(
    (await restore({ dataDir: into, target: fixture.target, logger })).status,
    "restored",
  );
  assert.deepEqual(await tree(into), files);

  // One byte of one file's range in its pack changed: that file fails its check.
  const victim = manifest.files.find((entry) => entry.path === "d1/f10.txt")!;
  const packPath = join(fixture.targetDir, objectKey(victim.pack!));
  const bytes = await readFile(packPath);
  bytes[victim.offset! + 3]! ^= 1;
  await writeFile(packPath, bytes);
  const again = join(await tempDir(t, "restore"), "data");
  await assert.rejects(
    restore({ dataDir: again, target: fixture.target, logger }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "SIDECAR_ERR_SYNC_VERIFY");
      assert.match(error.message, /d1\/f10\.txt.*corrupt: SHA-256/);
      return true;
    },
  );
});

test("restored files are made durable with one syncfs, or, when it fails, an fsync each", async (t) => {
  const { target } = await backedUp(t, { "a.txt": "alpha", "deep/er/b.txt": "bravo" });
  const synced: string[] = [];
  const { logger, lines } = captureLogger();
  const into = join(await tempDir(t, "restore"), "data");
  const result = await restore({
    dataDir: into,
    target,
    logger,
    syncFilesystem: async (path) => {
      synced.push(path);
    },
  });
  assert.equal(result.status, "restored");
  assert.equal(synced.length, 1, "one syncfs for every file");
  assert.match(synced[0]!, /restore-/, "of the staging directory's filesystem, before the move");

  const again = join(await tempDir(t, "restore"), "data");
  const failing = await restore({
    dataDir: again,
    target,
    logger,
    syncFilesystem: async () => {
      throw new Error("sync -f: Input/output error");
    },
  });
  assert.equal(failing.status, "restored", "each file fsynced instead");
  assert.deepEqual(await tree(again), { "a.txt": "alpha", "deep/er/b.txt": "bravo" });
  assert.ok(lines().some((line) => /syncfs of the restored files failed/.test(String(line.msg))));
});
