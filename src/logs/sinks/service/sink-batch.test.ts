import assert from "node:assert/strict";
import { test } from "node:test";
import { testEvents } from "../testing/test-context.ts";
import { SinkBatch, type Ticket } from "./sink-batch.ts";

function ticket(remaining: number) {
  const settled: { ok?: true; error?: Error } = {};
  const t: Ticket = {
    remaining,
    error: undefined,
    resolve: () => {
      assert.deepEqual(settled, {}, "settled once");
      settled.ok = true;
    },
    reject: (error) => {
      assert.deepEqual(settled, {}, "settled once");
      settled.error = error;
    },
  };
  return { t, settled };
}

test("settles each write once all its events are, across runs of several writes", () => {
  const [a, b] = [ticket(3), ticket(2)];
  const events = testEvents(5);
  const batch = new SinkBatch();
  batch.add(events[0]!, a.t, 10);
  batch.add(events[1]!, a.t, 10);
  batch.add(events[2]!, b.t, 10);
  batch.add(events[3]!, b.t, 10);
  batch.add(events[4]!, a.t, 10);
  assert.equal(batch.length, 5);
  assert.equal(batch.bytes, 50);
  batch.settleSome([2]);
  assert.deepEqual([a.settled, b.settled], [{}, {}]);
  batch.settleSome([3, 3]);
  assert.deepEqual(b.settled, { ok: true }, "an index settled twice counts once");
  batch.settle(new Error("late"));
  assert.equal(a.settled.error?.message, "late");
  assert.equal(a.t.remaining, 0);
  assert.equal(b.t.remaining, 0);
  batch.settle(new Error("again"));
  assert.equal(a.t.remaining, 0, "settling again changes nothing");
});

test("a write whose events span two batches settles when both did, with the first error", () => {
  const w = ticket(4);
  const events = testEvents(4);
  const [first, second] = [new SinkBatch(), new SinkBatch()];
  for (const e of events.slice(0, 2)) first.add(e, w.t, 1);
  for (const e of events.slice(2)) second.add(e, w.t, 1);
  second.settleSome([0], new Error("rejected"));
  first.settle();
  assert.deepEqual(w.settled, {});
  second.settle();
  assert.equal(w.settled.error?.message, "rejected");
});
