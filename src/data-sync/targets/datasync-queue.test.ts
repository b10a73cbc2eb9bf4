import assert from "node:assert/strict";
import { openSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../testing/sync-fixture.ts";
import { DatasyncQueue } from "./datasync-queue.ts";

test("objects wait for drain(); the add that fills a batch syncs it there and then", async (t) => {
  const dir = await tempDir(t, "datasync");
  const synced: number[] = [];
  const queue = new DatasyncQueue({
    maxWaiting: 3,
    datasync: async (fd) => {
      synced.push(fd);
    },
    onFailed: async () => {},
  });
  const fds = [0, 1, 2, 3].map((i) => openSync(join(dir, `f${i}`), "w"));
  await queue.add(fds[0]!, "f0");
  await queue.add(fds[1]!, "f1");
  assert.deepEqual(synced, [], "below the batch size, nothing is synced yet");
  await queue.add(fds[2]!, "f2");
  assert.deepEqual(synced, fds.slice(0, 3), "the third fills the batch");
  await queue.add(fds[3]!, "f3");
  await queue.drain();
  assert.deepEqual(synced, fds);
});

test("a failed fdatasync hands its object to onFailed, and the drain rejects once", async (t) => {
  const dir = await tempDir(t, "datasync");
  const failed: string[] = [];
  const good = openSync(join(dir, "good"), "w");
  const bad = openSync(join(dir, "bad"), "w");
  const queue = new DatasyncQueue({
    datasync: (fd) => (fd === bad ? Promise.reject(new Error("EIO")) : Promise.resolve()),
    onFailed: async (path) => {
      failed.push(path);
    },
  });
  await queue.add(good, "good");
  await queue.add(bad, "bad");
  await assert.rejects(queue.drain(), /EIO/);
  assert.deepEqual(failed, ["bad"]);
  await queue.drain();
});
