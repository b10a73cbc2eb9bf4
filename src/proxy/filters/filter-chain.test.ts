import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import type { FilterContext, ProxyFilter } from "./filter.ts";
import { FilterChain } from "./filter-chain.ts";

const logger = pino({ level: "silent" }) as Logger;

function context(): FilterContext & { seen: string[] } {
  return { seen: [], logger } as unknown as FilterContext & { seen: string[] };
}

const tag = (name: string): ProxyFilter => ({
  type: name,
  onRequest: (ctx) => {
    (ctx as FilterContext & { seen: string[] }).seen.push(name);
    return undefined;
  },
});
const deny = { status: 403, code: "TEST_DENIED", flag: "UAEX", message: "no" };

test("filters run in order; a chain of sync filters answers synchronously", () => {
  const ctx = context();
  const result = new FilterChain([tag("a"), tag("b"), tag("c")], logger).run(ctx);
  assert.equal(result, undefined);
  assert.deepEqual(ctx.seen, ["a", "b", "c"]);
});

test("a local reply stops the chain", () => {
  const ctx = context();
  const stop: ProxyFilter = { type: "stop", onRequest: () => deny };
  assert.deepEqual(new FilterChain([tag("a"), stop, tag("c")], logger).run(ctx), deny);
  assert.deepEqual(ctx.seen, ["a"]);
});

test("an async filter: the rest of the chain runs after it settles", async () => {
  const ctx = context();
  const slow: ProxyFilter = {
    type: "slow",
    onRequest: async (c) => {
      await new Promise((resolve) => setImmediate(resolve));
      (c as FilterContext & { seen: string[] }).seen.push("slow");
      return undefined;
    },
  };
  const result = new FilterChain([tag("a"), slow, tag("c")], logger).run(ctx);
  assert.ok(result instanceof Promise);
  assert.deepEqual(ctx.seen, ["a"]);
  assert.equal(await result, undefined);
  assert.deepEqual(ctx.seen, ["a", "slow", "c"]);
  const denying: ProxyFilter = { type: "async-deny", onRequest: async () => deny };
  assert.deepEqual(await new FilterChain([denying, tag("never")], logger).run(context()), deny);
});

test("a filter that throws or rejects gives a 500 FE reply and stops the chain", async () => {
  const throws: ProxyFilter = {
    type: "throws",
    onRequest: () => {
      throw new Error("boom");
    },
  };
  const rejects: ProxyFilter = { type: "rejects", onRequest: () => Promise.reject(new Error("x")) };
  for (const failing of [throws, rejects]) {
    const ctx = context();
    const reply = await new FilterChain([failing, tag("never")], logger).run(ctx);
    assert.equal(reply?.status, 500);
    assert.equal(reply?.code, "SIDECAR_ERR_PROXY_FILTER_FAILED");
    assert.equal(reply?.flag, "FE");
    assert.match(reply?.message ?? "", new RegExp(`"${failing.type}"`));
    assert.deepEqual(ctx.seen, []);
  }
});

test("response hooks run last filter first; one that throws is skipped", () => {
  const seen: string[] = [];
  const hook = (name: string): ProxyFilter => ({
    type: name,
    onRequest: () => undefined,
    onResponse: (_ctx, status) => {
      seen.push(`${name}:${status}`);
      if (name === "b") throw new Error("boom");
    },
  });
  new FilterChain([hook("a"), tag("no-hook"), hook("b"), hook("c")], logger).respond(
    context(),
    204,
  );
  assert.deepEqual(seen, ["c:204", "b:204", "a:204"]);
});
