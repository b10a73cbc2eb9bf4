import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { until } from "../src/runtime/testing.ts";
import { runSidecar, startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = await readFile(path, "latin1");
  }
  return files;
}

async function objectFiles(targetDir: string): Promise<string[]> {
  try {
    return (await readdir(join(targetDir, "objects"), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

const latestVersion = async (targetDir: string) =>
  (JSON.parse(await readFile(join(targetDir, "manifest.json"), "utf8")) as { version: number })
    .version;

test("sidecar sync --once, sync status and sync restore with its exit codes", async (t) => {
  const dir = await tempDir("sidecar-sync-cli-");
  t.after(dir.cleanup);
  const data = join(dir.path, "data");
  const backup = join(dir.path, "backup");
  await mkdir(join(data, "db"), { recursive: true });
  await writeFile(join(data, "db", "app.db"), "rows");
  await writeFile(join(data, "notes.txt"), "hello");
  const target = ["--data-dir", data, "--target", backup];

  const sync = await runSidecar(["sync", ...target, "--once", "--admin-address", "127.0.0.1:0"]);
  assert.equal(sync.code, 0, sync.stdout + sync.stderr);
  assert.match(sync.stdout, /"msg":"sync done: new version"/);

  const status = await runSidecar(["sync", "status", ...target, "--json"]);
  assert.equal(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as { latest: { version: number; files: number } };
  assert.deepEqual([parsed.latest.version, parsed.latest.files], [1, 2]);

  const into = join(dir.path, "restored");
  const restore = (...args: string[]) =>
    runSidecar(["sync", "restore", "--data-dir", into, "--target", backup, ...args]);
  const restored = await restore();
  assert.equal(restored.code, 0, restored.stdout + restored.stderr);
  assert.deepEqual(await tree(into), { "db/app.db": "rows", "notes.txt": "hello" });

  const notEmpty = await restore();
  assert.equal(notEmpty.code, 4, "the data directory is not empty");
  assert.match(notEmpty.stdout, /SIDECAR_ERR_SYNC_NOT_EMPTY/);
  await writeFile(join(into, "notes.txt"), "changed locally");
  assert.equal((await restore("--force")).code, 0);
  assert.equal(await readFile(join(into, "notes.txt"), "utf8"), "hello", "--force replaced it");

  const nothing = await runSidecar([
    "sync",
    "restore",
    "--data-dir",
    join(dir.path, "x"),
    "--target",
    join(dir.path, "none"),
  ]);
  assert.equal(nothing.code, 3);
  assert.match(nothing.stdout, /SIDECAR_ERR_SYNC_NOTHING_TO_RESTORE/);
  const allowed = await runSidecar([
    "sync",
    "restore",
    "--if-exists",
    "--data-dir",
    join(dir.path, "x"),
    "--target",
    join(dir.path, "none"),
  ]);
  assert.equal(allowed.code, 0);
});

test("kill -9 in the middle of a sync: the target keeps its last version, and the restart resumes", async (t) => {
  const dir = await tempDir("sidecar-sync-kill-");
  t.after(dir.cleanup);
  const data = join(dir.path, "data");
  const backup = join(dir.path, "backup");
  await mkdir(data);
  await writeFile(join(data, "first.txt"), "version one");
  const config = (extra: string) =>
    writeConfig(
      dir.path,
      `admin:\n  address: 127.0.0.1:0\nsync:\n  dataDir: ${data}\n  target: { type: dir, path: ${backup} }\n  intervalSeconds: 0\n${extra}`,
      `sidecar-${extra.length}.yaml`,
    );
  const once = await runSidecar(["sync", "-c", await config(""), "--once"]);
  assert.equal(once.code, 0, once.stdout + once.stderr);

  // 40 files of 256 KiB at 2 MiB/s: about five seconds of copying, killed early.
  for (let i = 0; i < 40; i++)
    await writeFile(
      join(data, `chunk-${String(i).padStart(2, "0")}.bin`),
      Buffer.alloc(256 * 1024, i),
    );
  const slow = startSidecar([
    "sync",
    "-c",
    await config("  bandwidthMiBps: 2\n  concurrency: 2\n"),
  ]);
  t.after(() => slow.stop("SIGKILL"));
  await until(async () => (await objectFiles(backup)).length >= 6, "a few objects copied", 20_000);
  assert.equal(await slow.stop("SIGKILL"), 137);

  const objectsAtKill = (await objectFiles(backup)).filter((n) => /^[0-9a-f]{64}$/.test(n)).length;
  assert.ok(objectsAtKill < 41, "killed before the end");
  assert.equal(await latestVersion(backup), 1, "the last complete version is still the newest");
  const early = join(dir.path, "early");
  const restoreEarly = await runSidecar([
    "sync",
    "restore",
    "--data-dir",
    early,
    "--target",
    backup,
  ]);
  assert.equal(restoreEarly.code, 0, restoreEarly.stdout);
  assert.deepEqual(Object.keys(await tree(early)), ["first.txt"], "version 1, whole");

  const resumed = await runSidecar(["sync", "-c", await config(""), "--once"]);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  const done = /"filesCopied":(\d+)[^\n]*"msg":"sync done: new version"/.exec(resumed.stdout);
  assert.ok(done, resumed.stdout);
  assert.equal(Number(done[1]), 41 - objectsAtKill, "only what the killed run had not stored");
  assert.equal(await latestVersion(backup), 2);
  assert.deepEqual(
    (await objectFiles(backup)).filter((n) => !/^[0-9a-f]{64}$/.test(n)),
    [],
    "no partial file left at the target",
  );
  const final = join(dir.path, "final");
  assert.equal(
    (await runSidecar(["sync", "restore", "--data-dir", final, "--target", backup])).code,
    0,
  );
  assert.deepEqual(await tree(final), await tree(data));
});

test("sidecar run: the data directory is restored before the app starts and synced after it exits", async (t) => {
  const dir = await tempDir("sidecar-sync-run-");
  t.after(dir.cleanup);
  const seed = join(dir.path, "seed");
  const data = join(dir.path, "data");
  const backup = join(dir.path, "backup");
  await mkdir(seed);
  await writeFile(join(seed, "counter"), "41");
  const seeded = await runSidecar([
    "sync",
    "--data-dir",
    seed,
    "--target",
    backup,
    "--once",
    "--admin-address",
    "127.0.0.1:0",
  ]);
  assert.equal(seeded.code, 0, seeded.stdout);

  const config = await writeConfig(
    dir.path,
    `admin:\n  address: 127.0.0.1:0\napp:\n  restart: never\nsync:\n  dataDir: ${data}\n  target: { type: dir, path: ${backup} }\n  intervalSeconds: 0\n  watch: false\n`,
  );
  // The app reads what the restore put back, writes the next value and exits at once.
  const app = `const fs = require("node:fs"); const n = Number(fs.readFileSync(process.argv[1] + "/counter", "utf8")); fs.writeFileSync(process.argv[1] + "/counter", String(n + 1));`;
  const run = await runSidecar(["run", "-c", config, "--", process.execPath, "-e", app, data]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /"msg":"restore done"/);
  assert.match(run.stdout, /"msg":"final sync done"/);
  const manifest = JSON.parse(await readFile(join(backup, "manifest.json"), "utf8")) as {
    version: number;
  };
  assert.equal(manifest.version, 2, "the app's write is a new version");
  const check = join(dir.path, "check");
  assert.equal(
    (await runSidecar(["sync", "restore", "--data-dir", check, "--target", backup])).code,
    0,
  );
  assert.equal(await readFile(join(check, "counter"), "utf8"), "42");
});
