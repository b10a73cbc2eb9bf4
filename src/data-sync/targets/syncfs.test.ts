import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../testing/sync-fixture.ts";
import { syncFilesystem } from "./syncfs.ts";

async function fakeSync(dir: string, body: string): Promise<string> {
  const path = join(dir, "sync");
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

test("syncFilesystem runs `sync -f PATH` and resolves when it succeeds", async (t) => {
  const dir = await tempDir(t, "syncfs");
  const command = await fakeSync(dir, `echo "$@" > "${join(dir, "args")}"`);
  await syncFilesystem("/backup", command);
  assert.equal((await readFile(join(dir, "args"), "utf8")).trim(), "-f /backup");
});

test("syncFilesystem rejects with what the command said when it fails", async (t) => {
  const dir = await tempDir(t, "syncfs");
  const command = await fakeSync(dir, 'echo "error syncing: Input/output error" >&2; exit 1');
  await assert.rejects(
    syncFilesystem("/backup", command),
    /-f \/backup: error syncing: Input\/output error/,
  );
});

test("syncFilesystem without a sync command rejects", async () => {
  await assert.rejects(syncFilesystem("/backup", ""), /No "sync" command/);
});
