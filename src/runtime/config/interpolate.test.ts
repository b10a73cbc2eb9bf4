import assert from "node:assert/strict";
import { test } from "node:test";
import { interpolate, typePlainScalar } from "./interpolate.ts";

test("replaces ${VAR} and uses the default of ${VAR:-default} when unset or empty", () => {
  const env = { HOST: "example.internal", EMPTY: "" };
  assert.deepEqual(interpolate("http://${HOST}:${PORT:-8080}/${EMPTY:-x}", env), {
    value: "http://example.internal:8080/x",
    missing: [],
  });
});

test("names every unset variable that has no default", () => {
  assert.deepEqual(interpolate("${A}-${B}-${C:-c}", {}).missing, ["A", "B"]);
});

test("an empty variable without default is empty, not missing", () => {
  assert.deepEqual(interpolate("[${EMPTY}]", { EMPTY: "" }), { value: "[]", missing: [] });
});

test("$${ escapes a literal ${", () => {
  assert.equal(interpolate("$${NOT_A_VAR}", {}).value, "${NOT_A_VAR}");
});

test("types a plain scalar the way YAML would", () => {
  assert.equal(typePlainScalar("8080"), 8080);
  assert.equal(typePlainScalar("0.5"), 0.5);
  assert.equal(typePlainScalar("true"), true);
  assert.equal(typePlainScalar("null"), null);
  assert.equal(typePlainScalar("127.0.0.1:9901"), "127.0.0.1:9901");
  assert.equal(typePlainScalar("1.2.3"), "1.2.3");
});
