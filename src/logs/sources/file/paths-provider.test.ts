import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PathsProvider } from "./paths-provider.ts";

test("a missing directory or ** under one never makes / the watched directory", async () => {
  for (const include of [
    "/nonexistent-sidecar-test/pods/*/*/*.log",
    "/nonexistent-sidecar-test/**/*.log",
    "/**/*.log",
  ]) {
    const paths = new PathsProvider({ include: [include] });
    try {
      await paths.watch();
      assert.deepEqual(paths.watchedDirectories(), [], include);
    } finally {
      paths.close();
    }
  }
});

test("** watches its directory once it exists, and its nearest ancestor until then", async () => {
  const root = await mkdtemp(join(tmpdir(), "sidecar-paths-"));
  const paths = new PathsProvider({ include: [join(root, "pods/**/*.log")] });
  try {
    await paths.watch();
    assert.deepEqual(paths.watchedDirectories(), [root]);
    await mkdir(join(root, "pods"));
    await paths.watch();
    assert.deepEqual(paths.watchedDirectories(), [join(root, "pods")]);
  } finally {
    paths.close();
    await rm(root, { recursive: true, force: true });
  }
});
