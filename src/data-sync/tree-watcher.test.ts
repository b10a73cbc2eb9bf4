import assert from "node:assert/strict";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { until } from "../runtime/testing.ts";
import { tempDir } from "./testing/sync-fixture.ts";
import { TreeWatcher } from "./tree-watcher.ts";

async function watched(t: import("node:test").TestContext) {
  const root = await tempDir(t, "watched");
  await mkdir(join(root, "a/b"), { recursive: true });
  await mkdir(join(root, ".sidecar-state"));
  const changes = new Set<string | undefined>();
  const errors: Error[] = [];
  const watcher = new TreeWatcher(root, {
    onChange: (path) => changes.add(path),
    onError: (error) => errors.push(error),
    ignore: (name) => name.startsWith(".sidecar-"),
  });
  watcher.start();
  t.after(() => watcher.close());
  return { root, changes, errors, watcher };
}

test("reports each changed file by its path, with one watch per directory", async (t) => {
  const { root, changes, errors, watcher } = await watched(t);
  assert.equal(watcher.directories, 3, "the root, a and a/b; not the ignored .sidecar-state");
  await writeFile(join(root, "top.txt"), "1");
  await writeFile(join(root, "a/b/deep.txt"), "2");
  await writeFile(join(root, ".sidecar-state/x"), "ignored");
  await until(() => changes.has("top.txt") && changes.has("a/b/deep.txt"), "both files reported");
  await rm(join(root, "a/b/deep.txt"));
  await until(() => changes.size > 0 && [...changes].every((p) => p !== undefined), "paths only");
  assert.ok(
    ![...changes].some((p) => p?.startsWith(".sidecar-")),
    "ignored names are not reported",
  );
  assert.deepEqual(errors, []);
});

test("a directory created or moved in is reported whole and watched from then on", async (t) => {
  const { root, changes, watcher } = await watched(t);
  const outside = await tempDir(t, "outside");
  await mkdir(join(outside, "moved/inner"), { recursive: true });
  await writeFile(join(outside, "moved/inner/before.txt"), "written before it was watched");
  await rename(join(outside, "moved"), join(root, "a/moved"));
  await until(() => changes.has("a/moved"), "the moved-in directory reported");
  await until(() => watcher.directories === 5, "moved and moved/inner watched");
  changes.clear();
  await writeFile(join(root, "a/moved/inner/after.txt"), "x");
  await until(() => changes.has("a/moved/inner/after.txt"), "a file in the new directory reported");
});

test("a directory removed or moved out stops being watched", async (t) => {
  const { root, changes, watcher } = await watched(t);
  await rename(join(root, "a"), join(root, "gone"));
  await until(() => changes.has("a") && changes.has("gone"), "both names reported");
  // "gone" is the same directory under its new name: watched again, "a" and "a/b" no more.
  await until(() => watcher.directories === 3, "the tree watched under its new names");
  await rm(join(root, "gone"), { recursive: true });
  await until(() => watcher.directories === 1, "only the root watched");
});

test("start fails, closing every watch it opened, when the root cannot be watched", async (t) => {
  const root = await tempDir(t, "missing");
  const watcher = new TreeWatcher(join(root, "nope"), { onChange() {}, onError() {} });
  assert.throws(() => watcher.start(), { code: "ENOENT" });
  assert.equal(watcher.directories, 0);
});
