import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimiter } from "./rate-limiter.ts";
import { TokenBucket } from "./token-bucket.ts";

test("a bucket gives its burst, then refills at the rate", () => {
  const bucket = new TokenBucket(2, 3, 0);
  assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [0, 0, 0]);
  assert.equal(bucket.take(0), 0.5);
  assert.equal(bucket.take(500), 0);
  assert.ok(bucket.take(500) > 0);
});

test("per-client buckets are separate and their number stays bounded", () => {
  let now = 0;
  const limiter = new RateLimiter({
    perClient: { requestsPerSecond: 1, burst: 1 },
    maxClients: 100,
    now: () => now,
  });
  assert.equal(limiter.check("a"), 0);
  assert.ok(limiter.check("a") > 0);
  assert.equal(limiter.check("b"), 0);
  for (let i = 0; i < 1000; i++) limiter.check(`c${i}`);
  now = 10_000;
  assert.equal(limiter.check("a"), 0);
});
