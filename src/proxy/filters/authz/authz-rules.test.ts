import assert from "node:assert/strict";
import { test } from "node:test";
import type { Principal } from "../auth/principal.ts";
import { authorize, authzRuleSchema } from "./authz-rules.ts";

const alice: Principal = {
  method: "jwt",
  subject: "alice",
  scopes: ["orders:read", "orders:write"],
  groups: ["staff"],
  claims: { tenant: "acme", roles: ["buyer", "auditor"] },
};
const bot: Principal = {
  method: "api-key",
  subject: "ci-bot",
  keyId: "ci-bot",
  scopes: [],
  groups: [],
};
const rules = (...list: unknown[]) => list.map((r) => authzRuleSchema.parse(r));

test("any rule admits; every condition of a rule must hold", () => {
  assert.equal(authorize(rules({ scopes: ["orders:write"] }), alice), true);
  assert.equal(authorize(rules({ scopes: ["orders:write", "admin"] }), alice), false);
  assert.equal(authorize(rules({ groups: ["admins", "staff"] }), alice), true);
  assert.equal(authorize(rules({ claims: { tenant: "acme", roles: "auditor" } }), alice), true);
  assert.equal(authorize(rules({ claims: { tenant: ["other"] } }), alice), false);
  assert.equal(authorize(rules({ keyIds: ["ci-bot"] }), alice), false);
  assert.equal(authorize(rules({ keyIds: ["ci-bot"] }), bot), true);
  assert.equal(authorize(rules({ methods: ["jwt"], subjects: ["alice"] }), alice), true);
  assert.equal(authorize(rules({ methods: ["api-key"] }, { subjects: ["bob"] }), alice), false);
});

test("default deny: no principal, or no rule that admits", () => {
  assert.equal(authorize(rules({ scopes: ["orders:read"] }), undefined), false);
  assert.equal(authorize([], alice), false);
  assert.throws(() => authzRuleSchema.parse({}), /at least one condition/);
});
