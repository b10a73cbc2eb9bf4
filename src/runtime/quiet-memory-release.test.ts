import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "./clock.ts";
import { QuietMemoryRelease } from "./quiet-memory-release.ts";

/** A clock whose time moves only by `advance(ms)`, firing the timers that fall due. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return { cancel: () => (timers = timers.filter((t) => t !== timer)) };
    },
    setInterval: () => {
      throw new Error("not used");
    },
    sleep: () => Promise.resolve(),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
  };
}

const MiB = 1024 * 1024;

function setup() {
  const clock = fakeClock();
  let heap = 20 * MiB;
  let inFlight = 0;
  const release = new QuietMemoryRelease({
    clock,
    quietMs: 1000,
    minIntervalMs: 2000,
    heapBytes: () => heap,
    release: () => {
      heap = 20 * MiB;
      return true;
    },
  });
  release.track(() => inFlight);
  return {
    clock,
    release,
    grow: (bytes: number) => {
      heap += bytes;
    },
    setInFlight: (n: number) => {
      inFlight = n;
    },
  };
}

test("collects once traffic has stopped for a second and the heap grew", () => {
  const { clock, release, grow } = setup();
  grow(16 * MiB);
  release.quiet();
  clock.advance(999);
  assert.equal(release.collections, 0);
  clock.advance(1);
  assert.equal(release.collections, 1);
  release.quiet();
  clock.advance(5000);
  assert.equal(release.collections, 1, "nothing grew since: no second collection");
});

test("does not collect while a request is in flight, and waits for the quiet spell to last", () => {
  const { clock, release, grow, setInFlight } = setup();
  grow(16 * MiB);
  release.quiet();
  clock.advance(500);
  setInFlight(1);
  clock.advance(1000);
  assert.equal(release.collections, 0);
  setInFlight(0);
  release.quiet();
  clock.advance(600);
  assert.equal(release.collections, 0, "quiet for 600 ms only");
  clock.advance(400);
  assert.equal(release.collections, 1);
});

test("keeps the collections at least two seconds apart and skips a small growth", () => {
  const { clock, release, grow } = setup();
  grow(2 * MiB);
  release.quiet();
  clock.advance(3000);
  assert.equal(release.collections, 0, "2 MiB is not worth a collection");
  grow(16 * MiB);
  assert.equal(release.releaseNow(), true);
  grow(16 * MiB);
  release.quiet();
  clock.advance(1000);
  assert.equal(release.collections, 1, "1 s after the last one");
  clock.advance(1000);
  assert.equal(release.collections, 2);
});

test("stops collecting once closed", () => {
  const { clock, release, grow } = setup();
  grow(16 * MiB);
  release.quiet();
  release.close();
  clock.advance(5000);
  release.quiet();
  clock.advance(5000);
  assert.equal(release.collections, 0);
});
