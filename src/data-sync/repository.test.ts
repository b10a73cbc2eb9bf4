import assert from "node:assert/strict";
import { test } from "node:test";
import { Repository } from "./repository.ts";
import { DirTarget } from "./targets/dir.ts";
import { tempDir } from "./testing/sync-fixture.ts";

const sha = (n: number) => String(n).padStart(64, "0");

test("retention keeps the newest N and every version younger than maxAgeHours, and collects unnamed objects", async (t) => {
  const target = new DirTarget(await tempDir(t, "target"));
  const repo = new Repository(target);
  const hour = 3_600_000;
  const start = Date.parse("2026-11-27T00:00:00Z");
  for (let v = 1; v <= 6; v++) {
    await repo.publish({
      format: 1,
      version: v,
      createdAt: new Date(start + v * hour).toISOString(),
      files: [{ path: "f", size: 1, mtimeMs: v, sha256: sha(v), mode: 0o644 }],
    });
  }
  const stored = new Set([1, 2, 3, 4, 5, 6, 99].map(sha));
  const now = start + 6 * hour;
  const pruned = await repo.prune({ versions: 2, maxAgeHours: 3.5 }, now, stored);
  assert.deepEqual(pruned, { versions: 2, objects: 3 });
  assert.deepEqual(
    (await repo.versions()).map((v) => v.version),
    [3, 4, 5, 6],
  );
  assert.deepEqual([...stored].sort(), [3, 4, 5, 6].map(sha));
  assert.equal((await repo.latest())?.version, 6);
});

test("the newest version is found even when manifest.json lags one behind (a crash between the two writes)", async (t) => {
  const target = new DirTarget(await tempDir(t, "target"));
  const repo = new Repository(target);
  const manifest = (version: number) => ({
    format: 1 as const,
    version,
    createdAt: new Date(Date.UTC(2026, 10, 27, version)).toISOString(),
    files: [],
  });
  await repo.publish(manifest(1));
  const { manifestKey, encodeManifest } = await import("./manifest.ts");
  await target.put(manifestKey(manifest(2)), encodeManifest(manifest(2)));
  assert.equal((await repo.latest())?.version, 2);
});
