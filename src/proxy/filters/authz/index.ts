import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import { AuthOutcome } from "../auth/auth-outcome.ts";
import { principalOf } from "../auth/principal.ts";
import type { FilterBuildContext, FilterContext, ProxyFilter } from "../filter.ts";
import { authorize, authzRuleSchema } from "./authz-rules.ts";

export const authzSchema = z.strictObject({
  type: z.literal("authz"),
  /** Any rule admitting the principal lets the request on; none admitting it is a 403. */
  rules: z.array(authzRuleSchema).min(1, { error: "expected at least one rule" }),
});
export type AuthzConfig = z.infer<typeof authzSchema>;

/**
 * Authorization after authentication (kube-rbac-proxy's SubjectAccessReview, Envoy's RBAC
 * filter, here as rules in the config): default deny. Put it after the authentication filter,
 * on the route it protects.
 */
export function authz(config: AuthzConfig, ctx: FilterBuildContext): ProxyFilter {
  const outcome = new AuthOutcome(ctx, {
    filter: "authz",
    failedAttempts: { burst: 1, perMinute: 1 },
    subjectHeader: "",
  });
  return {
    type: "authz",
    onRequest: function authzRequest(request: FilterContext) {
      const principal = principalOf(request);
      if (authorize(config.rules, principal)) return undefined;
      return outcome.forbidden(request, principal ? "no_rule" : "no_principal", {
        subject: principal?.subject,
        method: principal?.method,
      });
    },
  };
}

export const authzFilter = defineComponent({
  type: "authz",
  schema: authzSchema,
  build: authz,
});
