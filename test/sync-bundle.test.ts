import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { buildBundle } from "../scripts/build.ts";
import { runSidecar, tempDir } from "./helpers/sidecar-process.ts";

// A pass of 256+ small files copies them on copy threads, whose module is a file of its own in
// the bundle (dist/sync-copy-worker.js, beside sidecar.js; the code that starts them is in a
// chunk under chunks/): the bundle, as the package and the image run it, must find it.
test("the bundle's `sidecar sync --once` copies many small files on its copy threads", async () => {
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
    const manifest = JSON.parse(await readFile(join(backup, "manifest.json"), "utf8")) as {
      files: { path: string; sha256: string }[];
    };
    assert.equal(manifest.files.length, 300);
    for (const entry of manifest.files) {
      const object = await readFile(
        join(backup, "objects", entry.sha256.slice(0, 2), entry.sha256),
      );
      assert.equal(createHash("sha256").update(object).digest("hex"), entry.sha256);
      assert.equal(object.toString(), files[entry.path]);
    }
  } finally {
    await dir.cleanup();
  }
});
