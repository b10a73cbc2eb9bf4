import assert from "node:assert/strict";
import { test } from "node:test";
import { eachAtOnce } from "./each-at-once.ts";

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("runs every item, never more than the limit at once", async () => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  await eachAtOnce([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
    most = Math.max(most, ++running);
    await tick();
    running -= 1;
    done.push(item);
  });
  assert.deepEqual(done.sort(), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(most, 3);
});

test("after the first failure nothing starts; it rejects with that failure once the others settle", async () => {
  const started: number[] = [];
  let settled = 0;
  await assert.rejects(
    eachAtOnce([1, 2, 3, 4, 5, 6], 2, async (item) => {
      started.push(item);
      await tick();
      settled += 1;
      if (item === 2) throw new Error("two failed");
    }),
    /two failed/,
  );
  assert.deepEqual(started, [1, 2, 3], "3 had started when 2 failed; 4 never did");
  assert.equal(settled, 3);
});

test("an aborted stop signal starts nothing more", async () => {
  const stop = new AbortController();
  const started: number[] = [];
  await eachAtOnce(
    [1, 2, 3, 4],
    1,
    async (item) => {
      started.push(item);
      if (item === 2) stop.abort();
    },
    { stop: stop.signal },
  );
  assert.deepEqual(started, [1, 2]);
});
