import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fsyncDir, writeFileAtomic } from "./atomic-file.ts";

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-atomic-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A self-checking content: `<n>:<n repeated a varying number of times>:<length>`. */
function content(n: number): string {
  const body = String(n).repeat(1 + ((n * 7919) % 4000));
  return `${n}:${body}:${body.length}\n`;
}

function isWhole(text: string): boolean {
  const match = /^(\d+):(\d*):(\d+)\n$/.exec(text);
  return (
    match !== null &&
    match[2]!.length === Number(match[3]) &&
    match[2] === match[1]!.repeat(match[2]!.length / match[1]!.length)
  );
}

test("a reader never sees a partial file while 500 writes replace it", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "state.json");
    await writeFileAtomic(path, content(0));
    let done = false;
    let reads = 0;
    const torn: string[] = [];
    const reader = (async () => {
      while (!done) {
        const text = await readFile(path, "utf8");
        reads++;
        if (!isWhole(text)) torn.push(text.slice(0, 40));
      }
    })();
    try {
      // Without fsync: atomicity comes from the rename; fsync only adds durability.
      for (let n = 1; n <= 500; n++) await writeFileAtomic(path, content(n), { fsync: false });
    } finally {
      done = true;
      await reader;
    }
    assert.deepEqual(torn, []);
    assert.ok(reads > 0);
    assert.equal(await readFile(path, "utf8"), content(500));
    assert.deepEqual(await readdir(dir), ["state.json"], "no temp file is left behind");
  });
});

test("writes durably by default, with mode 0o644 unless told", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "a.json");
    await writeFileAtomic(path, "one");
    await writeFileAtomic(path, Buffer.from("two"));
    assert.equal(await readFile(path, "utf8"), "two");
    assert.equal((await stat(path)).mode & 0o777, 0o644 & ~process.umask());
    const secret = join(dir, "secret");
    await writeFileAtomic(secret, "s", { mode: 0o600 });
    assert.equal((await stat(secret)).mode & 0o777, 0o600);
  });
});

test("a failed write keeps the old content and leaves no temp file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "target");
    await mkdir(path); // renaming a file over a directory fails
    await assert.rejects(writeFileAtomic(path, "x"), { code: "EISDIR" });
    assert.deepEqual(await readdir(dir), ["target"]);
    await assert.rejects(writeFileAtomic(join(dir, "missing", "f"), "x"), { code: "ENOENT" });
  });
});

test("fsyncDir syncs a directory and fails on a missing one", async () => {
  await withTempDir(async (dir) => {
    await fsyncDir(dir);
    await assert.rejects(fsyncDir(join(dir, "nope")), { code: "ENOENT" });
  });
});
