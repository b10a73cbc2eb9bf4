import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { formatNumber, quantileBy, RateMeter, readSamples, sumBy } from "./metric-figures.ts";

test("reads a metric as a scrape would, and sums it by a label", async () => {
  const registry = new Registry();
  const counter = new Counter({
    name: "x_total",
    help: "x",
    labelNames: ["l", "c"],
    registers: [registry],
  });
  counter.inc({ l: "a", c: "2xx" }, 3);
  counter.inc({ l: "a", c: "5xx" }, 1);
  counter.inc({ l: "b", c: "2xx" }, 5);
  const sums = sumBy(await readSamples(registry, "x_total"), "l");
  assert.deepEqual(
    [...sums],
    [
      ["a", 4],
      ["b", 5],
    ],
  );
  assert.deepEqual(await readSamples(registry, "missing"), []);
});

test("quantiles interpolate inside the bucket, as histogram_quantile does, per label value", async () => {
  const registry = new Registry();
  const histogram = new Histogram({
    name: "d_seconds",
    help: "d",
    labelNames: ["l", "route"],
    buckets: [0.1, 0.2, 0.4],
    registers: [registry],
  });
  for (let i = 0; i < 50; i++) histogram.observe({ l: "a", route: "r1" }, 0.05);
  for (let i = 0; i < 50; i++) histogram.observe({ l: "a", route: "r2" }, 0.3);
  histogram.observe({ l: "b", route: "r1" }, 9);
  const q = quantileBy(await readSamples(registry, "d_seconds"), "l", 0.5);
  assert.equal(q.get("a"), 0.1); // rank 50 of 100: the top of the first bucket
  const q99 = quantileBy(await readSamples(registry, "d_seconds"), "l", 0.99);
  assert.ok(Math.abs(q99.get("a")! - 0.396) < 1e-9, String(q99.get("a")));
  assert.equal(q99.get("b"), 0.4, "past the last finite bucket: its bound");
});

test("rates need two reads; a counter reset gives no rate", () => {
  let now = 0;
  const meter = new RateMeter(() => now);
  assert.equal(meter.rate("k", 10), undefined);
  now = 2000;
  assert.equal(meter.rate("k", 30), 10);
  now = 3000;
  assert.equal(meter.rate("k", 5), undefined);
});

test("numbers read well", () => {
  assert.equal(formatNumber(undefined), "–");
  assert.equal(formatNumber(0), "0");
  assert.equal(formatNumber(12.345, " ms"), "12.3 ms");
  assert.equal(formatNumber(1234567), "1,234,567");
  assert.equal(formatNumber(0.5), "0.5");
});
