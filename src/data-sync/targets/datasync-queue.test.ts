import assert from "node:assert/strict";
import { openSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../testing/sync-fixture.ts";
import { DatasyncQueue } from "./datasync-queue.ts";

test("add waits while too many fds wait; drain resolves once every one is synced and closed", async (t) => {
  const dir = await tempDir(t, "datasync");
  const release: (() => void)[] = [];
  const synced: number[] = [];
  const queue = new DatasyncQueue({
    concurrency: 1,
    maxWaiting: 1,
    datasync: (fd) =>
      new Promise<void>((resolve) => {
        release.push(() => {
          synced.push(fd);
          resolve();
        });
      }),
    onFailed: async () => {},
  });
  const fds = [0, 1, 2].map((i) => openSync(join(dir, `f${i}`), "w"));
  await queue.add(fds[0]!, "f0"); // running
  await queue.add(fds[1]!, "f1"); // waiting: 1, not more than allowed
  let third = false;
  const adding = queue.add(fds[2]!, "f2").then(() => {
    third = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(third, false, "two wait: the third add waits for room");
  release.shift()!();
  await adding;
  let drained = false;
  const draining = queue.drain().then(() => {
    drained = true;
  });
  for (let i = 0; i < 10 && release.length === 0; i++)
    await new Promise((resolve) => setImmediate(resolve));
  while (release.length > 0 || synced.length < 3) {
    release.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await draining;
  assert.equal(drained, true);
  assert.deepEqual(synced, fds);
});

test("a failed fdatasync hands its object to onFailed, and the next drain rejects once", async (t) => {
  const dir = await tempDir(t, "datasync");
  const failed: string[] = [];
  const queue = new DatasyncQueue({
    datasync: (fd) => (fd === bad ? Promise.reject(new Error("EIO")) : Promise.resolve()),
    onFailed: async (path) => {
      failed.push(path);
    },
  });
  const good = openSync(join(dir, "good"), "w");
  const bad = openSync(join(dir, "bad"), "w");
  await queue.add(good, "good");
  await queue.add(bad, "bad");
  await assert.rejects(queue.drain(), /EIO/);
  assert.deepEqual(failed, ["bad"]);
  await queue.drain();
});
