import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import {
  AuthOutcome,
  failedAttemptsSchema,
  headerNameSchema,
  quoted,
} from "../auth/auth-outcome.ts";
import type { FilterBuildContext, FilterContext, ProxyFilter } from "../filter.ts";
import { ApiKeyStore } from "./key-store.ts";

export const apiKeySchema = z
  .strictObject({
    type: z.literal("api-key"),
    /** The header carrying the key. */
    header: headerNameSchema.default("x-api-key"),
    /**
     * Also accept the key in this query parameter (off by default: URLs end up in logs, browser
     * history and Referer headers). It is removed from the URL the app and the access log see.
     */
    queryParam: z.string().min(1).optional(),
    /** Where the keys come from (docs/security.md, "API keys"). */
    keys: z.strictObject({
      /** YAML/JSON map of key id → key or `sha256:<hex>`; reloaded on change. */
      file: z.string().min(1).optional(),
      /** Key id → environment variable holding the key or its `sha256:` hash. */
      env: z.record(z.string().min(1), z.string().min(1)).optional(),
    }),
    /** Pass the key header to the app (default: removed, the app never sees the key). */
    passCredential: z.boolean().default(false),
    /** The header the key id goes upstream in ("" for none). */
    subjectHeader: z.union([headerNameSchema, z.literal("")]).default("x-auth-subject"),
    /** `realm` of the WWW-Authenticate challenge. */
    realm: z.string().default("sidecar"),
    failedAttempts: failedAttemptsSchema,
  })
  .refine((c) => c.keys.file !== undefined || c.keys.env !== undefined, {
    error: "expected keys.file, keys.env or both",
    path: ["keys"],
  });
export type ApiKeyConfig = z.infer<typeof apiKeySchema>;

/**
 * API keys in a header: the key is looked up in constant time, its id becomes the principal's
 * subject (and `X-Auth-Subject`), and the header is removed before the app sees it. A missing
 * or unknown key is a 401 with `WWW-Authenticate: ApiKey realm="…", header="…"`.
 */
export function apiKey(config: ApiKeyConfig, ctx: FilterBuildContext): ProxyFilter {
  const store = new ApiKeyStore(config.keys, { logger: ctx.logger });
  const outcome = new AuthOutcome(ctx, {
    filter: "api-key",
    failedAttempts: config.failedAttempts,
    subjectHeader: config.subjectHeader,
  });
  const challenge = `ApiKey realm=${quoted(config.realm)}, header=${quoted(config.header)}`;
  const { header } = config;
  return {
    type: "api-key",
    identityHeaders: config.subjectHeader ? [config.subjectHeader] : [],
    onRequest: function apiKeyRequest(request: FilterContext) {
      const throttled = outcome.throttled(request);
      if (throttled) return throttled;
      let value = request.headers[header];
      if (!config.passCredential) request.removeRequestHeader(header);
      if (config.queryParam !== undefined) {
        const q = request.url.indexOf("?");
        if (q !== -1) {
          const fromQuery = new URLSearchParams(request.url.slice(q + 1)).getAll(config.queryParam);
          if (!config.passCredential) request.removeQueryParameter(config.queryParam);
          // One key, from one place: a second one (header and query, or twice) is refused.
          if (fromQuery.length > 0)
            value = value === undefined && fromQuery.length === 1 ? fromQuery[0] : "";
        }
      }
      if (value === undefined) return outcome.unauthenticated(request, "missing", challenge);
      // Node joins repeated headers with ", "; a key never holds one, so two keys fail.
      const keyId = typeof value === "string" ? store.lookup(value.trim()) : undefined;
      if (keyId === undefined) return outcome.unauthenticated(request, "unknown_key", challenge);
      return outcome.allowed(request, {
        method: "api-key",
        subject: keyId,
        keyId,
        scopes: [],
        groups: [],
      });
    },
    close: () => store.close(),
  };
}

export const apiKeyFilter = defineComponent({
  type: "api-key",
  schema: apiKeySchema,
  build: apiKey,
});
