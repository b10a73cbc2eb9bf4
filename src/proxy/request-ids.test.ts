import assert from "node:assert/strict";
import { test } from "node:test";
import { newRequestId, newTraceparent } from "./request-ids.ts";

test("request ids are version 4 UUIDs with the RFC 9562 variant, all different", () => {
  const seen = new Set<string>();
  // Past the pool's size, so that ids after a refill are checked too.
  for (let i = 0; i < 1000; i++) {
    const id = newRequestId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

test("traceparents are version 00, sampled, with nonzero ids, all different", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const tp = newTraceparent();
    assert.match(tp, /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-01$/);
    seen.add(tp);
  }
  assert.equal(seen.size, 1000);
});

test("the hex digits of ids are spread over all sixteen values", () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 200; i++)
    for (const c of newTraceparent().slice(3, 35)) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 16);
});
