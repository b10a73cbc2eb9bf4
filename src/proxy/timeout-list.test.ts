import assert from "node:assert/strict";
import { test } from "node:test";
import { TimeoutList } from "./timeout-list.ts";

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

test("timeouts fire in the order they were added, cancelled ones never", async () => {
  const list = new TimeoutList(30);
  const fired: number[] = [];
  const pending = [0, 1, 2, 3].map((i) => list.add(() => fired.push(i)));
  pending[0]!.cancel(); // the oldest: the timer armed for it finds nothing due and re-arms
  pending[2]!.cancel();
  await waitFor(() => fired.length === 2);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(fired, [1, 3]);
  pending[1]!.cancel(); // after it fired: nothing happens
});

test("a timeout added after the list emptied gets a timer of its own", async () => {
  const list = new TimeoutList(20);
  const fired: string[] = [];
  list.add(() => fired.push("a"));
  await waitFor(() => fired.length === 1);
  list.add(() => fired.push("b"));
  await waitFor(() => fired.length === 2);
  assert.deepEqual(fired, ["a", "b"]);
});

test("a timeout whose callback adds another is served by the same list", async () => {
  const list = new TimeoutList(20);
  const fired: string[] = [];
  list.add(() => {
    fired.push("first");
    list.add(() => fired.push("second"));
  });
  await waitFor(() => fired.length === 2);
  assert.deepEqual(fired, ["first", "second"]);
});

test("a timeout must be positive", () => {
  assert.throws(() => new TimeoutList(0), RangeError);
});
