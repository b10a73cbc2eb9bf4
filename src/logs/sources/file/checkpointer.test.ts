import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LogsErrorCodes } from "../../error-codes.ts";
import { Checkpointer } from "./checkpointer.ts";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "sidecar-cp-"));
}

test("writes checkpoints atomically and reads them back", async () => {
  const dir = await tempDir();
  try {
    const cp = new Checkpointer(dir);
    assert.equal(await cp.load(), undefined);
    cp.set({
      streamId: "fp",
      fingerprint: "fp",
      ino: "1:2",
      path: "/a.log",
      offset: 42,
      tail: "eA==",
    });
    await cp.flush();
    const again = new Checkpointer(dir);
    assert.equal(await again.load(), undefined);
    assert.equal(again.get("fp")?.offset, 42);
    assert.deepEqual(
      again.withFingerprint("fp").map((c) => c.path),
      ["/a.log"],
    );
    const text = await readFile(join(dir, "checkpoints.json"), "utf8");
    assert.equal(JSON.parse(text).version, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("ignores a torn temp file left by a crash mid-write", async () => {
  const dir = await tempDir();
  try {
    const cp = new Checkpointer(dir);
    await cp.load();
    cp.set({ streamId: "fp", fingerprint: "fp", ino: "1:2", path: "/a.log", offset: 7 });
    await cp.flush();
    await writeFile(join(dir, "checkpoints.json.tmp"), '{"version":1,"checkp');
    const again = new Checkpointer(dir);
    assert.equal(await again.load(), undefined);
    assert.equal(again.get("fp")?.offset, 7);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("reports an unreadable checkpoint file and starts without it", async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir, "checkpoints.json"), "not json");
    const cp = new Checkpointer(dir);
    const problem = await cp.load();
    assert.equal(problem?.code, LogsErrorCodes.CHECKPOINT_READ);
    assert.match(problem!.message, /^Cannot read checkpoint file ".*checkpoints\.json": /);
    assert.deepEqual(cp.all(), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("fails with CHECKPOINT_WRITE when the directory is gone, and keeps the entry to retry", async () => {
  const dir = await tempDir();
  const cp = new Checkpointer(join(dir, "sub"));
  await cp.load();
  cp.set({ streamId: "fp", fingerprint: "fp", ino: "1:2", path: "/a.log", offset: 1 });
  await rm(dir, { recursive: true, force: true });
  await assert.rejects(cp.flush(), { code: LogsErrorCodes.CHECKPOINT_WRITE });
});

test("the fast file written after each batch wins over an older fsynced file, and a torn one is ignored", async () => {
  const dir = await tempDir();
  try {
    const cp = new Checkpointer(dir);
    await cp.load();
    cp.set({ streamId: "fp", fingerprint: "fp", ino: "1:2", path: "/a.log", offset: 10, tail: "" });
    await cp.flush();
    cp.set({ streamId: "fp", fingerprint: "fp", ino: "1:2", path: "/a.log", offset: 20, tail: "" });
    cp.writeNow();
    cp.set({ streamId: "fp", fingerprint: "fp", ino: "1:2", path: "/a.log", offset: 5, tail: "" });
    cp.writeNow(); // shorter content over longer: padded, still valid
    cp.close();
    const again = new Checkpointer(dir);
    assert.equal(await again.load(), undefined);
    assert.equal(again.get("fp")?.offset, 5);
    await writeFile(join(dir, "checkpoints.fast.json"), '{"version":1,"seq":99,"checkpoi');
    const torn = new Checkpointer(dir);
    assert.equal(await torn.load(), undefined);
    assert.equal(torn.get("fp")?.offset, 10);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
