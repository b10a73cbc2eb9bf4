import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline, type Readable, Transform } from "node:stream";
import { test } from "node:test";
import { fdDatasync } from "./fd.ts";
import { objectKey, objectOf } from "./manifest.ts";
import { DirTarget } from "./targets/dir.ts";
import {
  ageFile,
  contentAt,
  readLatest,
  syncFixture,
  wrapTarget,
  writeFiles,
} from "./testing/sync-fixture.ts";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function objectsAt(targetDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(join(targetDir, "objects"), {
    recursive: true,
    withFileTypes: true,
  }))
    if (entry.isFile()) names.push(entry.name);
  return names.sort();
}

test("the first pass copies every file and writes version 1 naming each with its SHA-256", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, { "a.txt": "alpha", "db/app.db": "beta", ".hidden": "gamma" });
  const result = await syncer.run();
  assert.equal(result.version, 1);
  assert.equal(result.filesCopied, 3);
  const manifest = await readLatest(targetDir);
  assert.deepEqual(
    manifest.files.map((entry) => [entry.path, entry.size, entry.sha256]),
    [
      [".hidden", 5, sha("gamma")],
      ["a.txt", 5, sha("alpha")],
      ["db/app.db", 4, sha("beta")],
    ],
  );
  assert.equal(
    await readFile(join(targetDir, objectKey(sha("beta"))), "utf8"),
    "beta",
    "the object holds the content",
  );
  assert.equal((await readdir(join(targetDir, "manifests"))).length, 1);
});

test("a pass with nothing changed copies nothing and writes no version", async (t) => {
  const { dataDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, { "a.txt": "alpha" });
  await syncer.run();
  const again = await syncer.run();
  assert.equal(again.published, false);
  assert.equal(again.filesCopied, 0);
  assert.equal(again.version, 1);
});

test("a changed file is copied again; a renamed one copies nothing (same content)", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "beta" });
  await syncer.run();
  await writeFile(join(dataDir, "a.txt"), "ALPHA, longer");
  await rename(join(dataDir, "b.txt"), join(dataDir, "c.txt"));
  const result = await syncer.run();
  assert.equal(result.version, 2);
  assert.equal(result.filesCopied, 1, "only the changed content");
  const files = (await readLatest(targetDir)).files;
  assert.deepEqual(
    files.map((entry) => [entry.path, entry.sha256, entry.deletedAt !== undefined]),
    [
      ["a.txt", sha("ALPHA, longer"), false],
      ["b.txt", sha("beta"), true],
      ["c.txt", sha("beta"), false],
    ],
  );
});

test("a same-size rewrite is found by its mtime", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, { "a.txt": "alpha" });
  await ageFile(join(dataDir, "a.txt"));
  await syncer.run();
  await writeFile(join(dataDir, "a.txt"), "omega");
  await syncer.run();
  assert.equal((await readLatest(targetDir)).files[0]!.sha256, sha("omega"));
});

test("deletes: keep marks a deleted file and keeps its object", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    retention: { versions: 1, maxAgeHours: 0 },
  });
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "beta" });
  await syncer.run();
  await rm(join(dataDir, "b.txt"));
  await syncer.run();
  const entry = (await readLatest(targetDir)).files.find((e) => e.path === "b.txt");
  assert.ok(entry?.deletedAt, "kept, marked deleted");
  assert.deepEqual(await objectsAt(targetDir), [sha("alpha"), sha("beta")].sort());
  assert.equal((await readdir(join(targetDir, "manifests"))).length, 1, "retention: one version");
});

test("deletes: mirror drops a deleted file and, past retention, its object", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    deletes: "mirror",
    retention: { versions: 2, maxAgeHours: 0 },
  });
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "beta" });
  await syncer.run();
  await rm(join(dataDir, "b.txt"));
  await syncer.run();
  assert.deepEqual(
    (await readLatest(targetDir)).files.map((e) => e.path),
    ["a.txt"],
  );
  assert.equal((await objectsAt(targetDir)).length, 2, "version 1 still names b.txt's object");
  await writeFiles(dataDir, { "c.txt": "gamma" });
  await syncer.run();
  assert.deepEqual(await objectsAt(targetDir), [sha("alpha"), sha("gamma")].sort());
  assert.equal((await readdir(join(targetDir, "manifests"))).length, 2);
});

test("include and exclude globs choose the files; a pattern without / matches at any depth", async (t) => {
  const { pathFilter } = await import("./path-filter.ts");
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    filter: pathFilter(["**"], ["*.tmp", "cache/**"]),
  });
  await writeFiles(dataDir, { "a.txt": "a", "x/y.tmp": "t", "cache/c": "c", "x/keep": "k" });
  await syncer.run();
  assert.deepEqual(
    (await readLatest(targetDir)).files.map((e) => e.path),
    ["a.txt", "x/keep"],
  );
});

test("a file rewritten during its copy is not recorded torn, and is copied again by the next pass", async (t) => {
  let rewrite: (() => Promise<void>) | undefined;
  const { dataDir, targetDir, syncer, lines } = await syncFixture(t, {
    wrapTarget: (target) =>
      wrapTarget(target, {
        async putStream(key: string, open: () => Readable, size: number) {
          const hook = rewrite;
          rewrite = undefined;
          return target.putStream(
            key,
            () => {
              // The rewrite lands after the copy has read its first chunk, before the rest.
              let first = true;
              return pipeline(
                open(),
                new Transform({
                  transform(chunk, _encoding, callback) {
                    if (!first) return callback(null, chunk);
                    first = false;
                    void Promise.resolve(hook?.()).then(() => callback(null, chunk), callback);
                  },
                }),
                () => {},
              );
            },
            size,
          );
        },
      }),
  });
  const big = "x".repeat(1024 * 1024);
  await writeFiles(dataDir, { "db.bin": big });
  rewrite = () => writeFile(join(dataDir, "db.bin"), `${"y".repeat(1024 * 1024 - 1)}z`);
  const first = await syncer.run();
  assert.deepEqual(first.retry, ["db.bin"]);
  assert.equal(first.published, false, "no version names a torn copy");
  assert.deepEqual(await objectsAt(targetDir).catch(() => []), [], "the torn object was not kept");
  assert.ok(
    lines().some(
      (line) => line.msg === "file changed while it was copied; it will be copied again",
    ),
  );
  const second = await syncer.run();
  assert.deepEqual(second.retry, []);
  const entry = (await readLatest(targetDir)).files[0]!;
  assert.equal(entry.sha256, sha(`${"y".repeat(1024 * 1024 - 1)}z`));
  assert.equal(
    createHash("sha256")
      .update(await readFile(join(targetDir, objectKey(entry.sha256))))
      .digest("hex"),
    entry.sha256,
  );
});

test("a small file rewritten while it is copied is not recorded either: its mtime moved", async (t) => {
  let rewrite: (() => Promise<void>) | undefined;
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    wrapTarget: (target) =>
      wrapTarget(target, {
        async putStream(key: string, open: () => Readable, size: number) {
          await target.putStream(key, open, size);
          const hook = rewrite;
          rewrite = undefined;
          await hook?.();
        },
      }),
  });
  await writeFiles(dataDir, { "small.txt": "first" });
  await ageFile(join(dataDir, "small.txt"));
  rewrite = () => writeFile(join(dataDir, "small.txt"), "second");
  const first = await syncer.run();
  assert.deepEqual(first.retry, ["small.txt"]);
  assert.equal(first.published, false);
  await syncer.run();
  assert.equal((await readLatest(targetDir)).files[0]!.sha256, sha("second"));
});

test("a data directory gone after a version holds files fails the pass instead of recording everything deleted", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, { deletes: "mirror" });
  await writeFiles(dataDir, { "a.txt": "alpha", "lost+found/x": "fsck's" });
  await syncer.run();
  assert.deepEqual(
    (await readLatest(targetDir)).files.map((f) => f.path),
    ["a.txt"],
    "lost+found is the volume's",
  );
  await rm(dataDir, { recursive: true });
  await assert.rejects(syncer.run(), { code: "SIDECAR_ERR_SYNC_SOURCE" });
  assert.equal((await readLatest(targetDir)).files.length, 1);
});

test("a file rewritten with the same bytes makes no new version, and is not hashed again next time", async (t) => {
  const { dataDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, { "snap.db": "same bytes" });
  await ageFile(join(dataDir, "snap.db"));
  await syncer.run();
  await writeFile(join(dataDir, "snap.db"), "same bytes");
  const touched = await syncer.run();
  assert.equal(touched.published, false);
  assert.equal(touched.version, 1);
  const { stat } = await import("node:fs/promises");
  assert.equal(syncer.current!.files[0]!.mtimeMs, (await stat(join(dataDir, "snap.db"))).mtimeMs);
});

// A directory target fsyncs objects in batches, before the manifest that names them: a crash of
// the machine before that flush can leave an object torn under its final name. No version
// names it, so it is checked before it is trusted.
test("after a crash, an object no version names is trusted only when its content matches its name", async (t) => {
  const checked: string[][] = [];
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    wrapTarget: (target) =>
      wrapTarget(target, {
        checkUnnamed: (keys) => {
          checked.push([...keys]);
          return target.checkUnnamed!(keys);
        },
      }),
  });
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo", "c.txt": "charlie" });
  // What a pass cut before its flush may leave: one object whole, one torn, one of a file
  // that is gone since.
  await writeFiles(targetDir, {
    [objectKey(sha("bravo"))]: "bra",
    [objectKey(sha("charlie"))]: "charlie",
    [objectKey(sha("delta"))]: "del",
  });
  const result = await syncer.run();
  assert.deepEqual(checked, [[sha("bravo"), sha("charlie"), sha("delta")].sort().map(objectKey)]);
  assert.equal(result.filesCopied, 2, "alpha, and bravo again; charlie was whole");
  assert.equal(await readFile(join(targetDir, objectKey(sha("bravo"))), "utf8"), "bravo");
  assert.deepEqual(await objectsAt(targetDir), [sha("alpha"), sha("bravo"), sha("charlie")].sort());

  // Objects an older version names were durable before it was written: not hashed again.
  await writeFiles(dataDir, { "a.txt": "alpha two" });
  await ageFile(join(dataDir, "a.txt"));
  assert.equal((await syncer.run()).version, 2);
  checked.length = 0;
  const restarted = await syncFixture(t, {
    wrapTarget: () =>
      wrapTarget(new DirTarget(targetDir), {
        checkUnnamed: (keys) => {
          checked.push([...keys]);
          return Promise.resolve([...keys]);
        },
      }),
  });
  await syncer.repository.target.close();
  await restarted.syncer.load();
  assert.deepEqual(checked, [], "alpha is named by version 1");
});

// A directory target copies small files on its copy threads (putFiles), one message per batch,
// when a pass has many to copy (copyThreadsFrom; 1 in the tests below).
test("a pass of many small files copies them on copy threads, each object whole, each content once", async (t) => {
  const viaThreads: string[] = [];
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    wrapTarget: (target) =>
      wrapTarget(target, {
        putFiles(files, held) {
          viaThreads.push(...files.map((file) => file.path));
          return target.putFiles!(files, held);
        },
      }),
  });
  const files: Record<string, string> = {};
  // 300 files, 150 contents: every content is stored once.
  for (let i = 0; i < 300; i++) files[`d${i % 7}/f${i}.txt`] = `content ${i % 150}`;
  await writeFiles(dataDir, files);
  const result = await syncer.run();
  assert.equal(viaThreads.length, 300);
  // Two threads may both pack a content they meet at once (each in its own whole pack).
  assert.ok(result.filesCopied >= 150 && result.filesCopied < 300, String(result.filesCopied));
  const manifest = await readLatest(targetDir);
  assert.equal(manifest.files.length, 300);
  assert.equal(manifest.format, 2, "packed entries");
  for (const entry of manifest.files)
    assert.equal(await contentAt(targetDir, entry), files[entry.path]);
  // Each batch writes one object at most: a pack, or (when one content of the batch is new)
  // that content's own object.
  const named = new Set(manifest.files.map(objectOf));
  assert.ok(named.size <= Math.ceil(300 / 32), `${named.size} objects, one per batch at most`);
  assert.deepEqual(await objectsAt(targetDir), [...named].sort(), "those and nothing else");
  for (const object of named)
    assert.equal(
      createHash("sha256")
        .update(await readFile(join(targetDir, objectKey(object))))
        .digest("hex"),
      object,
      "named by its SHA-256",
    );

  // The next pass: a renamed file copies nothing (its content is in a pack); a new one is stored.
  await rename(join(dataDir, "d0/f0.txt"), join(dataDir, "renamed.txt"));
  await writeFiles(dataDir, { "new.txt": "new content" });
  const next = await syncer.run();
  assert.equal(next.filesCopied, 1);
  const renamed = (await readLatest(targetDir)).files.find((e) => e.path === "renamed.txt")!;
  assert.equal(await contentAt(targetDir, renamed), files["d0/f0.txt"]);
});

/** A fixture on copy threads whose next batch first runs `hook.before` (once, when set): what happens between the scan and the copy. */
async function betweenScanAndCopy(t: import("node:test").TestContext) {
  const hook: { before?: () => Promise<void> } = {};
  const fixture = await syncFixture(t, {
    copyThreadsFrom: 1,
    wrapTarget: (target) =>
      wrapTarget(target, {
        async putFiles(files, held) {
          const before = hook.before;
          hook.before = undefined;
          await before?.();
          return target.putFiles!(files, held);
        },
      }),
  });
  return { ...fixture, hook };
}

test("a small file changed after the scan, copied by a copy thread, is not recorded: its mtime moved", async (t) => {
  const { dataDir, targetDir, syncer, hook } = await betweenScanAndCopy(t);
  await writeFiles(dataDir, { "small.txt": "first" });
  await ageFile(join(dataDir, "small.txt"));
  hook.before = () => writeFile(join(dataDir, "small.txt"), "secnd");
  const first = await syncer.run();
  assert.deepEqual(first.retry, ["small.txt"]);
  assert.equal(first.published, false, "no version names it");
  await syncer.run();
  assert.equal((await readLatest(targetDir)).files[0]!.sha256, sha("secnd"));
});

test("a small file that grew after the scan is not recorded by a copy thread either", async (t) => {
  const { dataDir, syncer, lines, hook } = await betweenScanAndCopy(t);
  await writeFiles(dataDir, { "log.txt": "one line\n" });
  hook.before = () => writeFile(join(dataDir, "log.txt"), "one line\ntwo lines\n");
  const first = await syncer.run();
  assert.deepEqual(first.retry, ["log.txt"]);
  assert.ok(lines().some((line) => /more than 9 bytes while read/.test(String(line.error))));
});

test("a source a copy thread cannot read is retried by the next pass; the others are recorded", async (t) => {
  const { dataDir, targetDir, syncer, hook } = await betweenScanAndCopy(t);
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo" });
  // Between the scan and the copy, b.txt becomes a directory: reading it fails (EISDIR).
  hook.before = async () => {
    await rm(join(dataDir, "b.txt"));
    await writeFiles(dataDir, { "b.txt/inside": "x" });
  };
  const first = await syncer.run();
  assert.deepEqual(first.retry, ["b.txt"]);
  assert.deepEqual(
    (await readLatest(targetDir)).files.map((f) => f.path),
    ["a.txt"],
  );
});

test("a copy a copy thread cannot write fails the pass: no version, no temp file", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, { copyThreadsFrom: 1 });
  await writeFiles(dataDir, { "a.txt": "alpha" });
  // objects/<first two digits of alpha's SHA-256> is a file: the object cannot be written.
  await writeFiles(targetDir, { [`objects/${sha("alpha").slice(0, 2)}`]: "in the way" });
  await assert.rejects(syncer.run(), { code: "SIDECAR_ERR_SYNC_TARGET" });
  await assert.rejects(readFile(join(targetDir, "manifest.json")), { code: "ENOENT" });
  assert.deepEqual(await objectsAt(targetDir), [sha("alpha").slice(0, 2)]);
  await rm(join(targetDir, "objects", sha("alpha").slice(0, 2)));
  assert.equal((await syncer.run()).version, 1, "the next pass stores it");
  assert.equal(await readFile(join(targetDir, objectKey(sha("alpha"))), "utf8"), "alpha");
});

// A failed fdatasync may have lost the object's data even if the page cache still shows it
// whole: the object is deleted, the pass fails, and the next pass copies it again.
for (const [how, copyThreadsFrom] of [
  ["on the main thread", undefined],
  ["by a copy thread", 1],
] as const) {
  test(`an object whose fdatasync fails (copied ${how}) is deleted; the pass fails and the next copies it again`, async (t) => {
    let calls = 0;
    const { dataDir, targetDir, syncer } = await syncFixture(t, {
      ...(copyThreadsFrom ? { copyThreadsFrom } : {}),
      targetOptions: {
        syncFilesystem: false,
        datasync: (fd) =>
          ++calls === 1
            ? Promise.reject(
                Object.assign(new Error("EIO: i/o error, fdatasync"), {
                  code: "EIO",
                  syscall: "fdatasync",
                }),
              )
            : fdDatasync(fd),
      },
    });
    await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo" });
    await assert.rejects(syncer.run(), { code: "SIDECAR_ERR_SYNC_TARGET", message: /EIO/ });
    await assert.rejects(readFile(join(targetDir, "manifest.json")), { code: "ENOENT" });
    // On the main thread each file is its own object; a copy thread packs both in one.
    const packed = copyThreadsFrom !== undefined;
    assert.equal(
      (await objectsAt(targetDir)).length,
      packed ? 0 : 1,
      "the object not synced is gone",
    );

    const second = await syncer.run();
    assert.equal(second.version, 1);
    assert.equal(
      second.filesCopied,
      packed ? 2 : 1,
      "only what was deleted; an object left was checked and kept",
    );
    for (const entry of (await readLatest(targetDir)).files)
      assert.equal(sha(await contentAt(targetDir, entry)), entry.sha256);
  });
}

// With a `sync` command (the default where there is one), a flush is one syncfs(2) of the
// target's filesystem: when it fails, which object was lost is unknown, so all the pass wrote go.
test("a failed syncfs deletes every object the pass wrote; the pass fails and the next copies them again, with fdatasync", async (t) => {
  const synced: string[] = [];
  const datasynced: number[] = [];
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    targetOptions: {
      syncFilesystem: async (path) => {
        synced.push(path);
        throw new Error("sync -f: Input/output error");
      },
      datasync: (fd) => {
        datasynced.push(fd);
        return fdDatasync(fd);
      },
    },
  });
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo" });
  await assert.rejects(syncer.run(), { code: "SIDECAR_ERR_SYNC_TARGET", message: /Input\/output/ });
  await assert.rejects(readFile(join(targetDir, "manifest.json")), { code: "ENOENT" });
  assert.deepEqual(await objectsAt(targetDir), [], "none of them is trusted");

  const second = await syncer.run();
  assert.equal(second.version, 1);
  assert.equal(second.filesCopied, 2);
  assert.deepEqual(synced, [targetDir], "one syncfs, of the target; none after it failed");
  assert.equal(datasynced.length, 2, "each object fdatasynced");
  assert.deepEqual(await objectsAt(targetDir), [sha("alpha"), sha("bravo")].sort());
});

test("a pass given the changed paths looks at them only: files, and directories whole", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, {
    "a.txt": "alpha",
    "b.txt": "bravo",
    "dir/one.txt": "one",
    "dir/sub/two.txt": "two",
    "old/x.txt": "x",
  });
  await syncer.run();
  await writeFile(join(dataDir, "a.txt"), "alpha, changed");
  await writeFile(join(dataDir, "b.txt"), "bravo, changed but not reported");
  await writeFiles(dataDir, { "dir/sub/three.txt": "three", "new/deep/y.txt": "y" });
  await rm(join(dataDir, "dir/one.txt"));
  await rename(join(dataDir, "old"), join(dataDir, "renamed"));
  const result = await syncer.run(
    undefined,
    new Set(["a.txt", "dir", "new", "old", "renamed", "gone.txt"]),
  );
  assert.equal(result.published, true);
  const files = new Map((await readLatest(targetDir)).files.map((e) => [e.path, e]));
  assert.equal(files.get("a.txt")?.sha256, sha("alpha, changed"));
  assert.equal(files.get("b.txt")?.sha256, sha("bravo"), "not reported: carried over as it was");
  assert.ok(files.get("dir/one.txt")?.deletedAt, "gone under a reported directory");
  assert.equal(files.get("dir/sub/three.txt")?.sha256, sha("three"));
  assert.equal(files.get("new/deep/y.txt")?.sha256, sha("y"));
  assert.ok(files.get("old/x.txt")?.deletedAt, "moved away");
  assert.equal(files.get("renamed/x.txt")?.sha256, sha("x"));
  // A pass without paths scans everything and finds what was not reported.
  await syncer.run();
  assert.equal(
    (await readLatest(targetDir)).files.find((e) => e.path === "b.txt")?.sha256,
    sha("bravo, changed but not reported"),
  );
});

test("the first pass of a syncer scans everything, whatever paths it is given", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t);
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo" });
  await syncer.run(undefined, new Set(["a.txt"]));
  assert.deepEqual(
    (await readLatest(targetDir)).files.map((e) => e.path),
    ["a.txt", "b.txt"],
  );
});

test("on the copy threads, small files share a pack and a big file is its own object", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, { copyThreadsFrom: 1 });
  const big = Buffer.alloc(2 * 1024 * 1024 + 7, 9);
  await writeFiles(dataDir, { "a.txt": "alpha", "b.txt": "bravo" });
  await writeFile(join(dataDir, "big.bin"), big);
  const result = await syncer.run();
  assert.equal(result.filesCopied, 3);
  const files = new Map((await readLatest(targetDir)).files.map((e) => [e.path, e]));
  const bigEntry = files.get("big.bin")!;
  assert.equal(bigEntry.pack, undefined, "its own object");
  assert.ok((await readFile(join(targetDir, objectKey(bigEntry.sha256)))).equals(big));
  assert.ok(files.get("a.txt")?.pack && files.get("a.txt")?.pack === files.get("b.txt")?.pack);
  assert.equal(await contentAt(targetDir, files.get("b.txt")!), "bravo");
});

test("without copy threads (a small memory budget), many small files are packed on the main thread", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    copyThreadsFrom: 1,
    targetOptions: { copyThreads: 0 },
  });
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`f${i}.txt`] = `content ${i}`;
  await writeFiles(dataDir, files);
  assert.equal((await syncer.run()).filesCopied, 40);
  const manifest = await readLatest(targetDir);
  for (const entry of manifest.files)
    assert.equal(await contentAt(targetDir, entry), files[entry.path]);
  assert.equal((await objectsAt(targetDir)).length, 2, "two packs of 32 and 8");
});

test("a pack left mostly to old contents: its remaining files are packed again, and it goes with the versions naming it", async (t) => {
  const { dataDir, targetDir, syncer } = await syncFixture(t, {
    copyThreadsFrom: 1,
    retention: { versions: 1, maxAgeHours: 0 },
  });
  const files: Record<string, string> = {};
  for (let i = 0; i < 32; i++)
    files[`f${String(i).padStart(2, "0")}.txt`] = `first ${i}`.repeat(20);
  await writeFiles(dataDir, files);
  await syncer.run();
  const [first] = new Set((await readLatest(targetDir)).files.map((e) => e.pack));
  assert.ok(first, "one pack of 32");
  // 20 of the 32 rewritten: 12 left in the first pack, under half of it.
  for (let i = 0; i < 20; i++)
    files[`f${String(i).padStart(2, "0")}.txt`] = `second ${i}`.repeat(20);
  await writeFiles(dataDir, files);
  for (let i = 0; i < 20; i++) await ageFile(join(dataDir, `f${String(i).padStart(2, "0")}.txt`));
  await syncer.run();
  assert.ok(
    (await readLatest(targetDir)).files.some((e) => e.pack === first),
    "still named",
  );
  // The next pass copies the 12 again, and the first pack is named no more: pruned.
  const third = await syncer.run();
  assert.equal(third.published, true);
  assert.equal(third.filesCopied, 12);
  const manifest = await readLatest(targetDir);
  assert.ok(!manifest.files.some((e) => e.pack === first));
  assert.ok(!(await objectsAt(targetDir)).includes(first!), "the left pack is deleted");
  for (const entry of manifest.files)
    assert.equal(await contentAt(targetDir, entry), files[entry.path]);
  // Nothing sparse is left: the pass after copies nothing.
  assert.equal((await syncer.run()).published, false);
});
