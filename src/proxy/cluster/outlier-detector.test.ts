import assert from "node:assert/strict";
import { test } from "node:test";
import { Endpoint } from "./endpoint.ts";
import { OutlierDetector } from "./outlier-detector.ts";

const make = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => new Endpoint("127.0.0.1", 9000 + i, { idleTimeoutMs: 1000, maxConnections: 1 }),
  );

test("ejects after consecutive failures for a time that grows on repeat ejections, capped", () => {
  let now = 0;
  const ejected: number[] = [];
  const detector = new OutlierDetector(
    {
      consecutiveFailures: 3,
      baseEjectionSeconds: 10,
      maxEjectionSeconds: 25,
      maxEjectionPercent: 100,
    },
    () => now,
    (_e, seconds) => ejected.push(seconds),
  );
  const list = make(2);
  const e = list[0]!;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 3; i++) detector.failure(e, list);
    assert.ok(e.ejectedUntil > now);
    now = e.ejectedUntil + 1;
    assert.ok(e.isAvailable(now));
  }
  assert.deepEqual(ejected, [10, 20, 25]);
});

test("a success resets the failure count and, after an ejection ended, the ejection multiplier", () => {
  let now = 0;
  const detector = new OutlierDetector(
    {
      consecutiveFailures: 2,
      baseEjectionSeconds: 1,
      maxEjectionSeconds: 100,
      maxEjectionPercent: 100,
    },
    () => now,
    () => {},
  );
  const list = make(2);
  const e = list[0]!;
  detector.failure(e, list);
  detector.success(e);
  detector.failure(e, list);
  assert.equal(e.ejectedUntil, 0, "not two in a row");
  detector.failure(e, list);
  assert.equal(e.ejections, 1);
  now = e.ejectedUntil + 1;
  detector.success(e);
  assert.equal(e.ejections, 0);
});

test("never ejects more than maxEjectionPercent, but always allows one", () => {
  const detector = new OutlierDetector(
    {
      consecutiveFailures: 1,
      baseEjectionSeconds: 30,
      maxEjectionSeconds: 300,
      maxEjectionPercent: 10,
    },
    () => 0,
    () => {},
  );
  const list = make(4);
  for (const e of list) detector.failure(e, list);
  assert.equal(list.filter((e) => e.ejectedUntil > 0).length, 1);
});
