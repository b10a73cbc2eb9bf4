import assert from "node:assert/strict";
import { test } from "node:test";
import { Endpoint } from "./endpoint.ts";
import { createLoadBalancer } from "./load-balancer.ts";

const endpoints = () =>
  [1, 2, 3, 4].map(
    (i) => new Endpoint("127.0.0.1", 8000 + i, { idleTimeoutMs: 1000, maxConnections: 1 }),
  );

function counts(pick: () => Endpoint, n: number): Map<number, number> {
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const e = pick();
    seen.set(e.port, (seen.get(e.port) ?? 0) + 1);
  }
  return seen;
}

test("round robin visits every endpoint equally", () => {
  const list = endpoints();
  const lb = createLoadBalancer("round_robin");
  assert.deepEqual([...counts(() => lb(list), 400).values()], [100, 100, 100, 100]);
});

test("random spreads over every endpoint", () => {
  const list = endpoints();
  const lb = createLoadBalancer("random");
  const seen = counts(() => lb(list), 4000);
  assert.equal(seen.size, 4);
  for (const n of seen.values()) assert.ok(n > 700 && n < 1300, String(n));
});

test("least request (P2C) avoids the busiest endpoint and spreads over the others", () => {
  const list = endpoints();
  list[0]!.active = 100;
  const lb = createLoadBalancer("least_request");
  const seen = counts(() => lb(list), 3000);
  assert.equal(
    seen.get(8001),
    undefined,
    "the endpoint with 100 active requests is never the lesser of two",
  );
  for (const port of [8002, 8003, 8004])
    assert.ok((seen.get(port) ?? 0) > 600, `${port}: ${seen.get(port)}`);
});

test("least request with one endpoint returns it", () => {
  const [one] = endpoints();
  assert.equal(createLoadBalancer("least_request")([one!]), one);
});
