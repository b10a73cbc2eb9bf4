import assert from "node:assert/strict";
import { test } from "node:test";
import { commonJsExports } from "./commonjs-exports.ts";

test("named exports are found at the top level (sources) or under default (split bundle)", () => {
  const generate = () => "cert";
  assert.equal(commonJsExports({ generate }, "generate").generate, generate);
  const bundled = { default: { generate } } as unknown as { generate: typeof generate };
  assert.equal(commonJsExports(bundled, "generate").generate, generate);
  assert.throws(
    () => commonJsExports({ default: {} } as unknown as { generate: typeof generate }, "generate"),
    /no export "generate"/,
  );
});
