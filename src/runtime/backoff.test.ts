import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff, backoffDelay, parseRetryAfter } from "./backoff.ts";

const policy = { initialMs: 100, maxMs: 1000 };

test("equal jitter by default: half fixed, half random, doubling up to the cap", () => {
  assert.equal(backoffDelay(1, { ...policy, random: () => 0 }), 50);
  assert.equal(backoffDelay(1, { ...policy, random: () => 0.999999 }) < 100, true);
  assert.equal(backoffDelay(3, { ...policy, random: () => 0 }), 200);
  assert.equal(backoffDelay(30, { ...policy, random: () => 0 }), 500);
});

test("full jitter waits anywhere below the capped delay", () => {
  const full = { ...policy, jitter: "full" as const };
  assert.equal(backoffDelay(2, { ...full, random: () => 0 }), 0);
  assert.equal(backoffDelay(2, { ...full, random: () => 0.5 }), 100);
  assert.equal(backoffDelay(50, { ...full, random: () => 0.5 }), 500);
});

test("no jitter keeps the app restart delays: 1, 2, 4, 8, 16 s then the 30 s cap", () => {
  const restart = { initialMs: 1000, maxMs: 30_000, jitter: "none" as const };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 101].map((n) => backoffDelay(n, restart) / 1000),
    [1, 2, 4, 8, 16, 30, 30, 30],
  );
});

test("a Retry-After is a floor, never shortened by the backoff", () => {
  const none = { ...policy, jitter: "none" as const };
  assert.equal(backoffDelay(1, none, 3000), 3000);
  assert.equal(backoffDelay(4, none, 10), 800);
  assert.equal(backoffDelay(1, none, 0), 100);
});

test("huge attempt numbers and a zero initial delay stay finite", () => {
  assert.equal(backoffDelay(1e9, { initialMs: 1, maxMs: 5, jitter: "none" }), 5);
  assert.equal(backoffDelay(1e9, { initialMs: 0, maxMs: 5, jitter: "none" }), 0);
  assert.equal(backoffDelay(0, { initialMs: 7, maxMs: 50, jitter: "none" }), 7);
});

test("Backoff counts attempts and starts over after reset()", () => {
  const backoff = new Backoff({ initialMs: 10, maxMs: 35, jitter: "none" });
  assert.deepEqual(
    [backoff.next(), backoff.next(), backoff.next(), backoff.next()],
    [10, 20, 35, 35],
  );
  assert.equal(backoff.attempt, 4);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(500), 500);
});

test("parseRetryAfter is re-exported: seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("3", 0), 3000);
  assert.equal(parseRetryAfter(new Date(5000).toUTCString(), 1000), 4000);
  assert.equal(parseRetryAfter("soon", 0), undefined);
});
