import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../runtime/clock.ts";
import { Quiescence } from "./quiescence.ts";

/** A clock whose time moves only when the test says. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.add(timer);
      return { cancel: () => timers.delete(timer) };
    },
    setInterval: () => ({ cancel() {} }),
    sleep: () => Promise.resolve(),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers.delete(due);
      now = due.at;
      due.fn();
    }
    now = end;
  };
  return { clock, advance };
}

test("a burst fires once, min after the last change", () => {
  const { clock, advance } = manualClock();
  let fired = 0;
  const wait = new Quiescence({ minMs: 100, maxMs: 1000, clock }, () => fired++);
  for (let i = 0; i < 10; i++) {
    wait.poke();
    advance(50);
  }
  assert.equal(fired, 0);
  advance(100);
  assert.equal(fired, 1);
});

test("changes that never stop still fire every max", () => {
  const { clock, advance } = manualClock();
  const firedAt: number[] = [];
  const wait = new Quiescence({ minMs: 100, maxMs: 400, clock }, () => firedAt.push(clock.now()));
  for (let i = 0; i < 20; i++) {
    wait.poke();
    advance(50);
  }
  assert.deepEqual(firedAt, [400, 800]);
});
