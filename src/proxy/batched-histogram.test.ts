import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, Registry } from "prom-client";
import { BatchedHistogram } from "./batched-histogram.ts";

const config = {
  name: "x_request_duration_seconds",
  help: "Request durations.",
  labelNames: ["route", "cluster"] as const,
  buckets: [0.001, 0.01, 0.1, 1],
};
const observations: [route: string, cluster: string, value: number][] = [
  ["api", "app", 0.0005],
  ["api", "app", 0.001],
  ["api", "app", 0.05],
  ["", "app", 2],
  ["api", "other", 0.01],
  ["api", "app", 1],
];

test("a batched histogram scrapes exactly as prom-client's Histogram with the same observations", async () => {
  const expected = new Registry();
  const reference = new Histogram({
    ...config,
    labelNames: [...config.labelNames],
    registers: [expected],
  });
  const actual = new Registry();
  const batched = new BatchedHistogram({
    ...config,
    labelNames: [...config.labelNames],
    registers: [actual],
  });
  for (const [route, cluster, value] of observations) {
    reference.labels({ route, cluster }).observe(value);
    batched.series({ route, cluster }).observe(value);
  }
  assert.equal(await actual.metrics(), await expected.metrics());
  assert.deepEqual(await actual.getMetricsAsJSON(), await expected.getMetricsAsJSON());
});

test("a batched histogram also takes Histogram's observe, labels and reset", async () => {
  const expected = new Registry();
  const reference = new Histogram({
    ...config,
    labelNames: [...config.labelNames],
    registers: [expected],
  });
  const actual = new Registry();
  const batched = new BatchedHistogram({
    ...config,
    labelNames: [...config.labelNames],
    registers: [actual],
  });
  for (const h of [reference, batched] as Histogram<"route" | "cluster">[]) {
    h.observe({ route: "a", cluster: "b" }, 0.2);
    h.labels("a", "c").observe(0.002);
    h.labels({ route: "z", cluster: "b" }).observe(5);
  }
  assert.equal(await actual.metrics(), await expected.metrics());
  batched.reset();
  reference.reset();
  assert.equal(await actual.metrics(), await expected.metrics());
});

test("a batched histogram refuses a label it was not given", () => {
  const batched = new BatchedHistogram({
    ...config,
    labelNames: [...config.labelNames],
    registers: [],
  });
  assert.throws(() => batched.series({ route: "a", nope: "x" } as never), /nope/);
});
