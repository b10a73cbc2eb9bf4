import assert from "node:assert/strict";
import { test } from "node:test";
import { Throttle } from "./throttle.ts";

test("lets a second's worth through at once, then paces the rest at the rate", async () => {
  let now = 0;
  const waits: number[] = [];
  const throttle = new Throttle(1000, {
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  });
  await throttle.take(1000);
  assert.deepEqual(waits, [], "the burst");
  await throttle.take(500);
  assert.deepEqual(waits, [500], "500 bytes at 1000 B/s");
  now += 2000;
  await throttle.take(800);
  assert.deepEqual(waits, [500], "idle time refills the bucket, up to one second");
  await throttle.take(700);
  assert.deepEqual(waits, [500, 500]);
});

test("a paced stream passes every byte through", async () => {
  const { Readable } = await import("node:stream");
  const throttle = new Throttle(1e9);
  let bytes = 0;
  for await (const chunk of Readable.from([Buffer.alloc(10), Buffer.alloc(20)]).pipe(
    throttle.stream(),
  ))
    bytes += (chunk as Buffer).length;
  assert.equal(bytes, 30);
  assert.throws(() => new Throttle(0), RangeError);
});
