import { z } from "zod";
import type { Principal } from "../auth/principal.ts";

const names = z.array(z.string().min(1)).min(1);

/** One rule: every condition it sets must hold. */
export const authzRuleSchema = z
  .strictObject({
    /** The request was authenticated by one of these methods. */
    methods: z
      .array(z.enum(["api-key", "jwt", "forward-auth", "client-cert"]))
      .min(1)
      .optional(),
    /** The API key's id is one of these. */
    keyIds: names.optional(),
    /** The subject (JWT `sub`, key id, auth service user, SPIFFE ID or CN) is one of these. */
    subjects: names.optional(),
    /** The principal holds every one of these scopes (JWT `scope`/`scp`). */
    scopes: names.optional(),
    /** The principal is in at least one of these groups. */
    groups: names.optional(),
    /** Each named JWT claim equals one of the values (or, for a list claim, holds one). */
    claims: z.record(z.string().min(1), z.union([z.string(), names])).optional(),
  })
  .refine((rule) => Object.keys(rule).length > 0, {
    error: "expected at least one condition (methods, keyIds, subjects, scopes, groups, claims)",
  });
export type AuthzRule = z.infer<typeof authzRuleSchema>;

function claimHolds(value: unknown, accepted: readonly string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => typeof v === "string" && accepted.includes(v));
  return typeof value === "string" && accepted.includes(value);
}

/** Whether one rule admits the principal. */
export function ruleAdmits(rule: AuthzRule, p: Principal): boolean {
  if (rule.methods && !rule.methods.includes(p.method)) return false;
  if (rule.keyIds && (p.keyId === undefined || !rule.keyIds.includes(p.keyId))) return false;
  if (rule.subjects && !rule.subjects.includes(p.subject)) return false;
  if (rule.scopes && !rule.scopes.every((s) => p.scopes.includes(s))) return false;
  if (rule.groups && !rule.groups.some((g) => p.groups.includes(g))) return false;
  if (rule.claims)
    for (const [name, accepted] of Object.entries(rule.claims))
      if (!claimHolds(p.claims?.[name], typeof accepted === "string" ? [accepted] : accepted))
        return false;
  return true;
}

/**
 * Authorization: the principal is admitted when any rule admits it; with rules configured and
 * none admitting it (or no principal at all), it is denied. Default deny.
 *
 * @example
 * authorize([{ scopes: ["orders:write"] }, { keyIds: ["ci-bot"] }], principal); // true or false
 */
export function authorize(rules: readonly AuthzRule[], principal: Principal | undefined): boolean {
  if (!principal) return false;
  return rules.some((rule) => ruleAdmits(rule, principal));
}
