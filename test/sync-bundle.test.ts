import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { buildBundle } from "../scripts/build.ts";
import { contentAt, readLatest } from "../src/data-sync/testing/sync-fixture.ts";
import { runSidecar, tempDir } from "./helpers/sidecar-process.ts";

// A pass of 256+ small files packs them on copy threads, whose module is a file of its own in
// the bundle (dist/sync-copy-worker.js, beside sidecar.js; the code that starts them is in a
// chunk under chunks/): the bundle, as the package and the image run it, must find it.
test("the bundle's `sidecar sync --once` packs many small files on its copy threads", async () => {
  const dir = await tempDir("sidecar-sync-bundle-");
  try {
    const entry = join(dir.path, "dist", "sidecar.js");
    await buildBundle(entry);
    const data = join(dir.path, "data");
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`d${i % 3}/f${i}.txt`] = `small file ${i}\n`;
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(data, path, ".."), { recursive: true });
      await writeFile(join(data, path), content);
    }
    const backup = join(dir.path, "backup");
    const result = await runSidecar(
      ["sync", "--data-dir", data, "--target", backup, "--once", "--admin-address", "127.0.0.1:0"],
      { entry, env: { SIDECAR_LOG_LEVEL: "warn" } },
    );
    assert.equal(result.code, 0, result.stderr);
    const manifest = await readLatest(backup);
    assert.equal(manifest.files.length, 300);
    assert.ok(
      manifest.files.every((entry) => entry.pack),
      "packed by the copy threads",
    );
    for (const entry of manifest.files) {
      const content = await contentAt(backup, entry);
      assert.equal(createHash("sha256").update(content).digest("hex"), entry.sha256);
      assert.equal(content, files[entry.path]);
    }
  } finally {
    await dir.cleanup();
  }
});
