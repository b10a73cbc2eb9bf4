import assert from "node:assert/strict";
import { test } from "node:test";
import { pathNormalizationSchema } from "./path-normalization-config.ts";
import { defaultPathNormalization, normalizePath } from "./path-normalizer.ts";

const path = (raw: string, options = {}) => {
  const result = normalizePath(raw, pathNormalizationSchema.parse(options));
  return "path" in result ? result.path : `refused: ${result.refused}`;
};

test("the normalizer's own defaults are the schema's", () => {
  assert.deepEqual(defaultPathNormalization, pathNormalizationSchema.parse({}));
});

test("plain paths pass unchanged", () => {
  for (const raw of ["/", "/a", "/a/b/", "/file.js", "/a-b_c~d", "*", "/%E2%82%AC"])
    assert.equal(path(raw), raw);
});

test("dot segments are removed, never above the root", () => {
  assert.equal(path("/public/../admin"), "/admin");
  assert.equal(path("/public/./../admin/"), "/admin/");
  assert.equal(path("/../../admin"), "/admin");
  assert.equal(path("/a/b/.."), "/a/");
  assert.equal(path("/a/."), "/a/");
  assert.equal(path("/a/..b/c"), "/a/..b/c");
  assert.equal(path("/.."), "/");
});

test("escapes of unreserved characters are decoded, so encoded dots are dot segments", () => {
  assert.equal(path("/%2e%2e/admin"), "/admin");
  assert.equal(path("/public/%2E%2e/admin"), "/admin");
  assert.equal(path("/public/.%2e/admin"), "/admin");
  assert.equal(path("/%61dmin"), "/admin");
  // Other escapes stay, upper-cased; a double escape stays one level deep.
  assert.equal(path("/a%3fb%20c"), "/a%3Fb%20c");
  assert.equal(path("/%252e%252e/admin"), "/%252e%252e/admin");
});

test("slashes are merged unless told otherwise", () => {
  assert.equal(path("//admin"), "/admin");
  assert.equal(path("/public//..//admin//"), "/admin/");
  assert.equal(path("//admin", { mergeSlashes: false }), "//admin");
});

test("path parameters are stripped by default, or refused, or kept", () => {
  assert.equal(path("/admin;x"), "/admin");
  assert.equal(path("/public/..;/admin"), "/admin");
  assert.equal(path("/a;jsessionid=1/b"), "/a/b");
  assert.match(path("/admin;x", { pathParameters: "reject" }), /^refused: a path parameter/);
  assert.equal(path("/admin;x", { pathParameters: "keep" }), "/admin;x");
});

test("encoded slashes and backslashes are refused by default, kept unmatched or decoded on request", () => {
  assert.match(path("/public%2F..%2Fadmin"), /^refused: an encoded slash \(%2F\)/);
  assert.match(path("/public%2f..%2fadmin"), /^refused: an encoded slash \(%2F\)/);
  assert.match(path("/public%5C..%5Cadmin"), /^refused: an encoded slash \(%5C\)/);
  assert.match(path("/public\\..\\admin"), /^refused: a backslash/);
  assert.equal(path("/public%2f..%2fadmin", { encodedSlashes: "keep" }), "/public%2F..%2Fadmin");
  assert.equal(path("/public%2F..%2Fadmin", { encodedSlashes: "decode" }), "/admin");
  assert.equal(path("/public\\..\\admin", { encodedSlashes: "decode" }), "/admin");
});

test("fragments, NUL and malformed escapes are refused", () => {
  assert.match(path("/public#/../admin"), /^refused: a fragment/);
  assert.match(path("/admin%00.html"), /^refused: an encoded NUL/);
  assert.match(path("/a%zz"), /^refused: a malformed escape "%zz"/);
  assert.match(path("/a%2"), /^refused: a malformed escape "%2"/);
});
