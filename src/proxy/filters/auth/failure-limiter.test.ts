import assert from "node:assert/strict";
import { test } from "node:test";
import { FailureLimiter } from "./failure-limiter.ts";

test("a client that used its burst of failures waits for the refill; others are not affected", () => {
  let now = 0;
  const limiter = new FailureLimiter({ burst: 3, perMinute: 6 }, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.wait("10.0.0.1"), 0);
    limiter.fail("10.0.0.1");
  }
  assert.equal(limiter.wait("10.0.0.1"), 10, "one token every 10 s");
  assert.equal(limiter.wait("10.0.0.2"), 0);
  now += 10_000;
  assert.equal(limiter.wait("10.0.0.1"), 0);
});

test("the LRU keeps at most maxClients entries, forgetting the oldest", () => {
  const limiter = new FailureLimiter({ burst: 1, perMinute: 1 }, () => 0, 2);
  limiter.fail("a");
  limiter.fail("b");
  limiter.fail("c");
  assert.equal(limiter.wait("a"), 0, "forgotten");
  assert.ok(limiter.wait("b") > 0);
  assert.ok(limiter.wait("c") > 0);
});
