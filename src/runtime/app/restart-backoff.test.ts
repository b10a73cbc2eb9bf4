import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelaySeconds } from "./restart-backoff.ts";

test("doubles from the initial delay and stops at the cap", () => {
  const options = { initialSeconds: 1, maxSeconds: 30 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 100].map((n) => backoffDelaySeconds(n, options)),
    [1, 2, 4, 8, 16, 30, 30, 30],
  );
});
