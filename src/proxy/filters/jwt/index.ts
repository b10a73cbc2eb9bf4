import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import { HttpClient, httpTlsSchema } from "../../../runtime/http/http-client.ts";
import {
  AuthOutcome,
  failedAttemptsSchema,
  headerNameSchema,
  headerSafe,
  quoted,
} from "../auth/auth-outcome.ts";
import type { FilterBuildContext, FilterContext, ProxyFilter } from "../filter.ts";
import { JwksKeys } from "./jwks-keys.ts";
import { jwtAlgorithms, verifyJwt } from "./jwt-verifier.ts";
import { VerifiedTokens } from "./verified-tokens.ts";

const oneOrMany = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (typeof v === "string" ? [v] : v));

export const jwtSchema = z
  .strictObject({
    type: z.literal("jwt"),
    /** The IdP's JWKS (`jwks_uri`), fetched with the shared HTTP client … */
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** … or a local JWKS file, reloaded on change. */
    jwksFile: z.string().min(1).optional(),
    /** TLS for the JWKS URL (CA, client certificate, SNI); verification is on. */
    tls: httpTlsSchema.optional(),
    jwksTimeoutSeconds: seconds(5, { min: 0.1 }),
    /** Fetched keys are refreshed after this, in the background (served meanwhile). */
    cacheSeconds: seconds(600, { min: 1 }),
    /** An unknown `kid` refetches the JWKS at most once per this. */
    minRefreshSeconds: seconds(30),
    /** Accepted `iss` (one or a list). */
    issuer: oneOrMany,
    /** Accepted audiences: the token's `aud` must hold one (one or a list). */
    audience: oneOrMany.optional(),
    /** Asymmetric algorithms only: `none` and HMAC are never accepted. */
    algorithms: z.array(z.enum(jwtAlgorithms)).min(1).default(["RS256", "ES256"]),
    clockSkewSeconds: seconds(60),
    /** Claims that must be present besides the checked ones. */
    requiredClaims: z.array(z.string().min(1)).default(["exp"]),
    maxTokenBytes: z.number().int().min(64).default(8192),
    /** Verified tokens remembered (by hash, until they expire) so a repeated one skips the signature check; 0 = off. */
    cacheTokens: z.number().int().min(0).default(1000),
    /** The header carrying `Bearer <token>`. */
    header: headerNameSchema.default("authorization"),
    /** Pass the token to the app (default: the header is removed). */
    passCredential: z.boolean().default(false),
    /** The header the token's `sub` goes upstream in ("" for none). */
    subjectHeader: z.union([headerNameSchema, z.literal("")]).default("x-auth-subject"),
    /** Claims passed upstream: header name → claim name, e.g. `x-auth-email: email`. */
    claimHeaders: z.record(headerNameSchema, z.string().min(1)).default({}),
    /** Where scopes are read (space-separated string or list; `scp` is tried too). */
    scopesClaim: z.string().min(1).default("scope"),
    groupsClaim: z.string().min(1).default("groups"),
    realm: z.string().default("sidecar"),
    failedAttempts: failedAttemptsSchema,
  })
  .refine((c) => (c.jwksUrl === undefined) !== (c.jwksFile === undefined), {
    error: "expected one of jwksUrl and jwksFile",
  });
export type JwtConfig = z.infer<typeof jwtSchema>;

function strings(value: unknown): string[] {
  if (typeof value === "string") return value.split(" ").filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

function claimText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(String).join(",");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * JWT bearer tokens (Envoy's jwt_authn, oauth2-proxy's `--skip-jwt-bearer-tokens`): the token
 * is verified against the JWKS (docs/security.md, "JWT"); `sub`, scopes, groups and claims
 * become the principal, `sub` and the mapped claims go upstream as headers, and the
 * Authorization header is removed. Failures are 401 with an RFC 6750 challenge.
 */
export function jwt(config: JwtConfig, ctx: FilterBuildContext): ProxyFilter {
  const http =
    config.jwksUrl === undefined
      ? undefined
      : new HttpClient({
          timeoutSeconds: config.jwksTimeoutSeconds,
          tls: config.tls,
          maxSockets: 2,
        });
  const keys = new JwksKeys({
    url: config.jwksUrl,
    file: config.jwksFile,
    cacheSeconds: config.cacheSeconds,
    minRefreshSeconds: config.minRefreshSeconds,
    http,
    logger: ctx.logger,
    now: ctx.now,
  });
  void keys.prefetch();
  const rules = {
    issuers: config.issuer,
    audiences: config.audience ?? [],
    algorithms: config.algorithms,
    clockSkewSeconds: config.clockSkewSeconds,
    requiredClaims: config.requiredClaims,
    maxTokenBytes: config.maxTokenBytes,
  };
  const outcome = new AuthOutcome(ctx, {
    filter: "jwt",
    failedAttempts: config.failedAttempts,
    subjectHeader: config.subjectHeader,
  });
  const realm = `Bearer realm=${quoted(config.realm)}`;
  const verified = new VerifiedTokens(config.cacheTokens, config.clockSkewSeconds);
  const claimHeaders = Object.entries(config.claimHeaders);
  return {
    type: "jwt",
    identityHeaders: [
      ...(config.subjectHeader ? [config.subjectHeader] : []),
      ...claimHeaders.map(([header]) => header),
    ],
    onRequest: async function jwtRequest(request: FilterContext) {
      const throttled = outcome.throttled(request);
      if (throttled) return throttled;
      const value = request.headers[config.header];
      if (!config.passCredential) request.removeRequestHeader(config.header);
      const match = typeof value === "string" ? /^Bearer +([^\s,]+)\s*$/i.exec(value) : null;
      // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
      if (!match) return outcome.unauthenticated(request, "missing", realm);
      const token = match[1]!;
      let claims = verified.get(token);
      if (!claims) {
        const result = await verifyJwt(token, keys, rules);
        if ("failure" in result)
          return outcome.unauthenticated(
            request,
            result.failure.reason,
            `${realm}, error="invalid_token", error_description=${quoted(result.failure.description)}`,
          );
        claims = result.claims;
        verified.remember(token, claims);
      }
      for (const [header, claim] of claimHeaders) {
        const text = claimText(claims[claim]);
        if (text !== undefined) request.setRequestHeader(header, headerSafe(text));
      }
      return outcome.allowed(request, {
        method: "jwt",
        subject: typeof claims.sub === "string" ? claims.sub : "",
        scopes: [...strings(claims[config.scopesClaim]), ...strings(claims.scp)],
        groups: strings(claims[config.groupsClaim]),
        claims,
      });
    },
    close: () => {
      keys.close();
      http?.close();
    },
  };
}

export const jwtFilter = defineComponent({
  type: "jwt",
  schema: jwtSchema,
  build: jwt,
});
