import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { closeSync, fstatSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { objectKey } from "../manifest.ts";
import { tempDir } from "../testing/sync-fixture.ts";
import { CopyPool, type CopyResult, copyWorkerUrl, type ReadReply } from "./copy-pool.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function pool(t: import("node:test").TestContext) {
  const copies = new CopyPool({ threads: 2 });
  t.after(() => copies.close());
  return { copies, source: await tempDir(t, "copy-source"), root: await tempDir(t, "copy-target") };
}

/** Every file read whole is chosen for the pack. */
const everyRead = (replies: ReadReply[]) =>
  replies.flatMap((reply, index) => (reply.kind === "read" ? [index] : []));

/** A batch of `names` under `source`, each of the size its content has (or `sizes`). */
function copy(
  copies: CopyPool,
  { source, root }: { source: string; root: string },
  files: Record<string, number>,
  { keepOpen = false, choose = everyRead } = {},
): Promise<CopyResult> {
  return copies.copy(
    {
      files: Object.entries(files).map(([name, size]) => ({ source: join(source, name), size })),
      root,
      keepOpen,
    },
    choose,
  );
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

test("a copy thread reads each file, then packs the contents chosen, in order, under the pack's SHA-256", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "a.txt"), "alpha");
  await writeFile(join(source, "b.txt"), "bravo!");
  await writeFile(join(source, "c.txt"), "charlie");
  const { replies, pack } = await copy(
    copies,
    { source, root },
    { "a.txt": 5, "b.txt": 6, "c.txt": 7 },
    { choose: () => [2, 0] },
  );
  assert.deepEqual(
    replies.map((reply) => reply.kind === "read" && [reply.sha256, reply.size, reply.after?.size]),
    [
      [sha("alpha"), 5, 5],
      [sha("bravo!"), 6, 6],
      [sha("charlie"), 7, 7],
    ],
  );
  assert.ok(pack?.kind === "packed");
  assert.equal(pack.sha256, sha("charliealpha"));
  assert.equal(pack.path, join(root, objectKey(sha("charliealpha"))));
  assert.deepEqual(pack.offsets, [0, 7], "charlie, then alpha");
  assert.equal(pack.written, true);
  assert.equal(pack.fd, undefined);
  assert.equal(await readFile(pack.path, "utf8"), "charliealpha");

  const again = await copy(copies, { source, root }, { "c.txt": 7, "a.txt": 5 });
  assert.ok(again.pack?.kind === "packed");
  assert.equal(again.pack.written, false, "the target holds this pack already");
  assert.deepEqual(await filesUnder(root), [sha("charliealpha")]);
});

test("nothing chosen, nothing written", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "a.txt"), "alpha");
  const { replies, pack } = await copy(
    copies,
    { source, root },
    { "a.txt": 5 },
    { choose: () => [] },
  );
  assert.equal(replies[0]?.kind, "read");
  assert.equal(pack, undefined);
  assert.deepEqual(await filesUnder(root), []);
});

test("a pack written for the batched fdatasync comes back with its fd open", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "b.txt"), "bravo");
  const { pack } = await copy(copies, { source, root }, { "b.txt": 5 }, { keepOpen: true });
  assert.ok(pack?.kind === "packed" && pack.fd !== undefined);
  assert.equal(fstatSync(pack.fd).size, 5);
  closeSync(pack.fd);
});

test("files changed, gone or unreadable are reported as such and never packed", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "grew.txt"), "longer now");
  await writeFile(join(source, "shrank.txt"), "ab");
  await mkdir(join(source, "now-a-dir"));
  const { replies, pack } = await copy(
    copies,
    { source, root },
    { "grew.txt": 4, "shrank.txt": 3, nope: 1, "now-a-dir": 3 },
  );
  assert.deepEqual(replies.slice(0, 3), [
    { kind: "changed", detail: "more than 4 bytes while read" },
    { kind: "changed", detail: "size 3 → 2 while read" },
    { kind: "gone" },
  ]);
  assert.equal(replies[3]?.kind, "source");
  assert.ok(replies[3]?.kind === "source");
  assert.equal(replies[3].code, "EISDIR");
  assert.equal(pack, undefined, "nothing read whole, nothing packed");
  assert.deepEqual(await filesUnder(root), []);
});

test("a pack that cannot be written is a target failure and leaves no temp file", async (t) => {
  const { copies, source, root } = await pool(t);
  await writeFile(join(source, "c.txt"), "charlie");
  // objects/<first two digits> is a file: the pack's directory cannot be made.
  await mkdir(join(root, "objects"));
  await writeFile(join(root, "objects", sha("charlie").slice(0, 2)), "in the way");
  const { pack } = await copy(copies, { source, root }, { "c.txt": 7 });
  assert.equal(pack?.kind, "target");
  assert.ok(pack?.kind === "target");
  assert.match(pack.message, /ENOTDIR|EEXIST/);
  assert.deepEqual(await filesUnder(root), [sha("charlie").slice(0, 2)]);
});

test("a choice that throws fails its batch, and the thread goes on with the next", async (t) => {
  const copies = new CopyPool({ threads: 1 });
  t.after(() => copies.close());
  const source = await tempDir(t, "copy-source");
  const root = await tempDir(t, "copy-target");
  await writeFile(join(source, "a.txt"), "alpha");
  await assert.rejects(
    copy(
      copies,
      { source, root },
      { "a.txt": 5 },
      {
        choose: () => {
          throw new Error("no choice");
        },
      },
    ),
    /no choice/,
  );
  const next = await copy(copies, { source, root }, { "a.txt": 5 });
  assert.ok(next.pack?.kind === "packed" && next.pack.written);
  assert.equal(copies.threads, 1);
});

test("copies beyond the threads wait their turn, and all complete", async (t) => {
  const { copies, source, root } = await pool(t);
  const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
  for (const name of names) await writeFile(join(source, name), `content ${name}`);
  const results = await Promise.all(
    names.map((name) => copy(copies, { source, root }, { [name]: `content ${name}`.length })),
  );
  assert.ok(results.every(({ pack }) => pack?.kind === "packed" && pack.written));
  assert.equal((await filesUnder(root)).length, 20);
});

test("a closed pool refuses copies", async (t) => {
  const { copies, source, root } = await pool(t);
  await copies.close();
  await assert.rejects(copy(copies, { source, root }, { x: 1 }), /closed/);
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

test("a thread that cannot start fails its batch, and so does the next one's", async () => {
  const copies = new CopyPool({ workerUrl: new URL("file:///nonexistent/sync-copy-worker.js") });
  try {
    const batch = () => copy(copies, { source: "/nonexistent", root: "/nonexistent" }, { a: 1 });
    await assert.rejects(batch(), /Cannot find module|ERR_MODULE_NOT_FOUND|exited/);
    await assert.rejects(batch(), /Cannot find module|ERR_MODULE_NOT_FOUND|exited/);
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
  const a = await copy(copies, { source, root }, { "a.txt": 5 });
  assert.equal(a.pack?.kind, "packed");
  assert.equal(copies.threads, 1);
  for (let i = 0; i < 100 && copies.threads > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(copies.threads, 0, "the idle thread was not stopped");
  const b = await copy(copies, { source, root }, { "b.txt": 4 });
  assert.equal(b.pack?.kind, "packed");
  assert.equal(copies.threads, 1);
});

test("a big file is read in chunks, then written alone as its own object, checked as it is read again", async (t) => {
  const { copies, source, root } = await pool(t);
  const big = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  await writeFile(join(source, "big.bin"), big);
  const digest = createHash("sha256").update(big).digest("hex");
  const { replies, pack } = await copies.copy(
    {
      files: [{ source: join(source, "big.bin"), size: big.length, stream: true }],
      root,
      keepOpen: false,
    },
    everyRead,
  );
  assert.ok(replies[0]?.kind === "read" && replies[0].sha256 === digest);
  assert.ok(pack?.kind === "packed");
  assert.equal(pack.sha256, digest, "a pack of one content is that content's object");
  assert.ok((await readFile(pack.path)).equals(big));
});

test("a big file changed between its two reads is reported changed, and nothing is written", async (t) => {
  const { copies, source, root } = await pool(t);
  const path = join(source, "big.bin");
  await writeFile(path, Buffer.alloc(2 * 1024 * 1024, 1));
  const { pack } = await copies.copy(
    { files: [{ source: path, size: 2 * 1024 * 1024, stream: true }], root, keepOpen: false },
    (replies) => {
      // Rewritten, same size, after its first read and before it is packed.
      writeFileSync(path, Buffer.alloc(2 * 1024 * 1024, 2));
      return everyRead(replies);
    },
  );
  assert.deepEqual(pack, { kind: "changed", detail: "its content changed between two reads" });
  assert.deepEqual(await filesUnder(root), [], "no object, no temp file");
});
