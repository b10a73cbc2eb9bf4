import assert from "node:assert/strict";
import { test } from "node:test";
import { VerifiedTokens } from "./verified-tokens.ts";

test("a remembered token is served until its exp (plus skew), never before its nbf", () => {
  let now = 1_000_000_000_000;
  const cache = new VerifiedTokens(10, 60, () => now);
  const exp = now / 1000 + 300;
  cache.remember("a.b.c", { sub: "alice", exp, nbf: now / 1000 + 120 });
  assert.equal(cache.get("a.b.c"), undefined, "nbf is 120 s away, beyond the 60 s skew");
  now += 61_000;
  assert.equal(cache.get("a.b.c")?.sub, "alice");
  now = exp * 1000 + 60_000;
  assert.equal(cache.get("a.b.c"), undefined, "expired: dropped");
  assert.equal(cache.get("other"), undefined);
});

test("at most `size` tokens, least recently used dropped first; size 0 turns it off", () => {
  const cache = new VerifiedTokens(2, 0);
  cache.remember("t1", { sub: "1" });
  cache.remember("t2", { sub: "2" });
  cache.get("t1");
  cache.remember("t3", { sub: "3" });
  assert.equal(cache.get("t2"), undefined);
  assert.equal(cache.get("t1")?.sub, "1");
  assert.equal(cache.get("t3")?.sub, "3");
  const off = new VerifiedTokens(0, 0);
  off.remember("t", { sub: "x" });
  assert.equal(off.get("t"), undefined);
});
