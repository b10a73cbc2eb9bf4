import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import type { Clock } from "./clock.ts";
import { deriveMemoryBudget } from "./memory-budget.ts";
import { MemoryPressure, residentAnonBytes } from "./memory-pressure.ts";
import { captureLogger, testMemoryPlan } from "./testing.ts";

const MiB = 2 ** 20;

/** A clock whose one interval the test fires by hand. */
function fakeClock(): Clock & { tick(): void; intervals: number[] } {
  let fn: (() => void) | undefined;
  const intervals: number[] = [];
  return {
    intervals,
    now: () => 0,
    setTimeout: () => ({ cancel() {} }),
    setInterval(callback, ms) {
      fn = callback;
      intervals.push(ms);
      return {
        cancel() {
          fn = undefined;
        },
      };
    },
    sleep: async () => {},
    tick: () => fn?.(),
  };
}

function service(rss: { value: number }) {
  const clock = fakeClock();
  const registry = new Registry();
  const { logger, lines } = captureLogger();
  const pressure = new MemoryPressure({
    budgetBytes: 100 * MiB,
    clock,
    registry,
    logger,
    sample: () => rss.value,
  });
  return { pressure, clock, registry, lines };
}

test("pressure starts at the high-water mark and ends only under the low-water mark", async () => {
  const rss = { value: 50 * MiB };
  const { pressure, clock, registry } = service(rss);
  const changes: boolean[] = [];
  pressure.onChange((active) => changes.push(active));
  await pressure.start();
  assert.deepEqual(clock.intervals, [200], "one timer");
  assert.equal(pressure.active, false);
  rss.value = 94 * MiB;
  clock.tick();
  assert.equal(pressure.active, false, "under 95% of the budget");
  rss.value = 96 * MiB;
  clock.tick();
  assert.equal(pressure.active, true);
  rss.value = 90 * MiB;
  clock.tick();
  assert.equal(pressure.active, true, "between the marks: still under pressure (hysteresis)");
  rss.value = 84 * MiB;
  clock.tick();
  assert.equal(pressure.active, false);
  assert.deepEqual(changes, [true, false]);
  const metrics = await registry.metrics();
  assert.match(metrics, /^sidecar_memory_pressure 0$/m);
  assert.match(metrics, /^sidecar_memory_pressure_transitions_total\{to="on"\} 1$/m);
  assert.match(metrics, /^sidecar_memory_pressure_transitions_total\{to="off"\} 1$/m);
  assert.match(metrics, new RegExp(`^sidecar_memory_resident_peak_bytes ${96 * MiB}$`, "m"));
  await pressure.stop();
});

test("under pressure /readyz gets a warning, the gauge is 1 and the change is logged", async () => {
  const rss = { value: 99 * MiB };
  const { pressure, registry, lines } = service(rss);
  await pressure.start();
  assert.equal(pressure.ready(), true, "pressure is a warning, not unreadiness");
  assert.match(
    pressure.degradedReason() ?? "",
    /^memory pressure: 99\.0 MiB resident is over the budget's high-water mark of 95\.0 MiB/,
  );
  assert.match(await registry.metrics(), /^sidecar_memory_pressure 1$/m);
  assert.ok(
    lines().some((line) => line.level === "warn" && /memory pressure/.test(String(line.msg))),
  );
  assert.deepEqual(pressure.figures, {
    residentBytes: 99 * MiB,
    peakResidentBytes: 99 * MiB,
    highWaterBytes: 95 * MiB,
    lowWaterBytes: 85 * MiB,
    underPressure: true,
  });
  await pressure.stop();
  assert.equal(pressure.active, false, "stopping releases whoever waits");
  assert.equal(pressure.degradedReason(), undefined);
});

test("stop cancels the timer", async () => {
  const rss = { value: 10 * MiB };
  const { pressure, clock } = service(rss);
  await pressure.start();
  await pressure.stop();
  rss.value = 99 * MiB;
  clock.tick();
  assert.equal(pressure.active, false);
});

test("marks out of order are refused", () => {
  assert.throws(
    () =>
      new MemoryPressure({
        budgetBytes: MiB,
        highWater: 0.5,
        lowWater: 0.8,
        clock: fakeClock(),
        registry: new Registry(),
        logger: captureLogger().logger,
      }),
    RangeError,
  );
});

test("buffers are today's defaults without a limit and shrink with the budget", () => {
  assert.deepEqual(deriveMemoryBudget(undefined), {
    limited: false,
    logs: { bufferMaxBytes: 8 * MiB, maxInFlight: 4, batchMaxBytes: MiB },
    proxy: { maxConnections: 10_000, retryBufferBytes: 64 * 1024 },
    sync: { copyThreads: 2 },
  });
  const plan = testMemoryPlan;
  assert.deepEqual(deriveMemoryBudget(plan(128)), {
    limited: true,
    logs: { bufferMaxBytes: 3 * MiB, maxInFlight: 3, batchMaxBytes: 768 * 1024 },
    proxy: { maxConnections: 1024, retryBufferBytes: 24 * 1024 },
    sync: { copyThreads: 1 },
  });
  const small = deriveMemoryBudget(plan(64));
  const large = deriveMemoryBudget(plan(4096));
  assert.ok(small.logs.bufferMaxBytes < 3 * MiB && small.logs.maxInFlight === 1);
  assert.deepEqual(large.logs, deriveMemoryBudget(undefined).logs, "capped at today's defaults");
  assert.equal(small.sync.copyThreads, 0, "under 64 Mi small files are copied on the main thread");
  assert.equal(large.sync.copyThreads, 2);
});

test("the sample is the resident memory the process owns, without its file-backed pages", () => {
  const owned = residentAnonBytes();
  assert.ok(owned > 0 && owned < process.memoryUsage.rss(), `${owned} bytes`);
});
