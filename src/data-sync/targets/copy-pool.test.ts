import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { objectKey } from "../manifest.ts";
import { tempDir } from "../testing/sync-fixture.ts";
import { CopyPool, type CopyReply, copyWorkerUrl } from "./copy-pool.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function pool(t: import("node:test").TestContext) {
  const copies = new CopyPool({ threads: 2 });
  t.after(() => copies.close());
  return { copies, source: await tempDir(t, "copy-source"), root: await tempDir(t, "copy-target") };
}

/** One file's copy, as a batch of one. */
async function copyOne(
  copies: CopyPool,
  file: { source: string; size: number; root: string; keepOpen: boolean },
): Promise<CopyReply> {
  const replies = await copies.copy({
    files: [{ source: file.source, size: file.size }],
    root: file.root,
    keepOpen: file.keepOpen,
  });
  assert.equal(replies.length, 1);
  return replies[0]!;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

test("a copy thread stores a file under its SHA-256 once, and reports the file as it is after", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "a.txt"), "alpha");
  const first = await copyOne(copies, {
    source: join(source, "a.txt"),
    size: 5,
    root,
    keepOpen: false,
  });
  assert.equal(first.kind, "stored");
  assert.ok(first.kind === "stored");
  assert.equal(first.sha256, sha("alpha"));
  assert.equal(first.written, true);
  assert.equal(first.path, join(root, objectKey(sha("alpha"))));
  assert.equal(first.fd, undefined);
  assert.equal(first.after?.size, 5);
  assert.equal(await readFile(first.path, "utf8"), "alpha");

  const again = await copyOne(copies, {
    source: join(source, "a.txt"),
    size: 5,
    root,
    keepOpen: true,
  });
  assert.ok(again.kind === "stored");
  assert.equal(again.written, false, "the target holds it already");
  assert.deepEqual(await filesUnder(root), [sha("alpha")]);
});

test("an object written for the batched fdatasync comes back with its fd open", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "b.txt"), "bravo");
  const reply = await copyOne(copies, {
    source: join(source, "b.txt"),
    size: 5,
    root,
    keepOpen: true,
  });
  assert.ok(reply.kind === "stored" && reply.fd !== undefined);
  const { fstatSync, closeSync } = await import("node:fs");
  assert.equal(fstatSync(reply.fd).size, 5);
  closeSync(reply.fd);
});

test("a file whose size is not what the scan saw is reported changed, and nothing is written", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "grew.txt"), "longer now");
  const reply = await copyOne(copies, {
    source: join(source, "grew.txt"),
    size: 4,
    root,
    keepOpen: false,
  });
  assert.deepEqual(reply, { kind: "changed", detail: "more than 4 bytes while read" });
  assert.deepEqual(await filesUnder(root), []);
});

test("a file gone since the scan is reported gone", async (t) => {
  const { copies, source, root } = await pool(t);
  const reply = await copyOne(copies, {
    source: join(source, "nope"),
    size: 1,
    root,
    keepOpen: false,
  });
  assert.deepEqual(reply, { kind: "gone" });
});

test("a source that cannot be read is a source failure", async (t) => {
  const { copies, source, root } = await pool(t);
  await mkdir(join(source, "now-a-dir"));
  const reply = await copyOne(copies, {
    source: join(source, "now-a-dir"),
    size: 3,
    root,
    keepOpen: false,
  });
  assert.equal(reply.kind, "source");
  assert.ok(reply.kind === "source");
  assert.equal(reply.code, "EISDIR");
});

test("a target that cannot be written is a target failure and leaves no temp file", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "c.txt"), "charlie");
  // objects/<first two digits> is a file: the object's directory cannot be made.
  await mkdir(join(root, "objects"));
  await writeFile(join(root, "objects", sha("charlie").slice(0, 2)), "in the way");
  const reply = await copyOne(copies, {
    source: join(source, "c.txt"),
    size: 7,
    root,
    keepOpen: false,
  });
  assert.equal(reply.kind, "target");
  assert.ok(reply.kind === "target");
  assert.match(reply.message, /ENOTDIR|EEXIST/);
  assert.deepEqual(await filesUnder(root), [sha("charlie").slice(0, 2)]);
});

test("copies beyond the threads wait their turn, and all complete", async (t) => {
  const { copies, source, root } = await pool(t);
  const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
  for (const name of names) await writeFile(join(source, name), `content ${name}`);
  const replies = await Promise.all(
    names.map((name) =>
      copyOne(copies, {
        source: join(source, name),
        size: `content ${name}`.length,
        root,
        keepOpen: false,
      }),
    ),
  );
  assert.ok(replies.every((reply) => reply.kind === "stored" && reply.written));
  assert.equal((await filesUnder(root)).length, 20);
});

test("a closed pool refuses copies", async (t) => {
  const { copies, source, root } = await pool(t);
  await copies.close();
  await assert.rejects(
    copies.copy({ files: [{ source, size: 1 }], root, keepOpen: false }),
    /closed/,
  );
});

test("the copy thread's module: the .ts beside this one, or the bundle's sync-copy-worker.js", () => {
  assert.equal(
    copyWorkerUrl("file:///app/src/data-sync/targets/copy-pool.ts").href,
    "file:///app/src/data-sync/targets/copy-worker.ts",
  );
  assert.equal(
    copyWorkerUrl("file:///app/dist/chunks/chunk-AB12.js").href,
    "file:///app/dist/sync-copy-worker.js",
  );
  assert.equal(
    copyWorkerUrl("file:///app/dist/sidecar.js").href,
    "file:///app/dist/sync-copy-worker.js",
  );
});

test("a batch is copied in order and stops at the first file the target fails", async (t) => {
  const { copies, source, root } = await pool(t);
  for (const name of ["a", "b", "c"]) await writeFile(join(source, name), `file ${name}`);
  await mkdir(join(root, "objects"), { recursive: true });
  await writeFile(join(root, "objects", sha("file b").slice(0, 2)), "in the way");
  const replies = await copies.copy({
    files: ["a", "nope", "b", "c"].map((name) => ({ source: join(source, name), size: 6 })),
    root,
    keepOpen: false,
  });
  assert.deepEqual(
    replies.map((reply) => reply.kind),
    ["stored", "gone", "target"],
    "c is not tried after the target failed",
  );
});

test("a thread that cannot start fails its batch, and so does the next one's", async () => {
  const copies = new CopyPool({ workerUrl: new URL("file:///nonexistent/sync-copy-worker.js") });
  try {
    const batch = {
      files: [{ source: "/nonexistent/a", size: 1 }],
      root: "/nonexistent",
      keepOpen: false,
    };
    await assert.rejects(copies.copy(batch), /Cannot find module|ERR_MODULE_NOT_FOUND|exited/);
    await assert.rejects(copies.copy(batch), /Cannot find module|ERR_MODULE_NOT_FOUND|exited/);
  } finally {
    await copies.close();
  }
});

test("an idle thread exits after idleMs, and the next batch starts a new one", async (t) => {
  const copies = new CopyPool({ threads: 1, idleMs: 50 });
  t.after(() => copies.close());
  const source = await tempDir(t, "copy-source");
  const root = await tempDir(t, "copy-target");
  await writeFile(join(source, "a.txt"), "alpha");
  await writeFile(join(source, "b.txt"), "beta");
  const a = await copyOne(copies, {
    source: join(source, "a.txt"),
    size: 5,
    root,
    keepOpen: false,
  });
  assert.equal(a.kind, "stored");
  assert.equal(copies.threads, 1);
  for (let i = 0; i < 100 && copies.threads > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(copies.threads, 0, "the idle thread was not stopped");
  const b = await copyOne(copies, {
    source: join(source, "b.txt"),
    size: 4,
    root,
    keepOpen: false,
  });
  assert.equal(b.kind, "stored");
  assert.equal(copies.threads, 1);
});
