import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import { HttpClient, httpTlsSchema } from "../../../runtime/http/http-client.ts";
import { ProxyErrorCodes } from "../../error-codes.ts";
import { AuthOutcome, failedAttemptsSchema, headerNameSchema } from "../auth/auth-outcome.ts";
import type { FilterBuildContext, FilterContext, ProxyFilter } from "../filter.ts";
import { askAuthService } from "./forward-auth-client.ts";

export const forwardAuthSchema = z.strictObject({
  type: z.literal("forward-auth"),
  /** The auth service's endpoint. */
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(["GET", "POST", "HEAD"]).default("GET"),
  tls: httpTlsSchema.optional(),
  timeoutSeconds: seconds(1, { min: 0.01 }),
  /** Client request headers the auth service sees. */
  requestHeaders: z.array(headerNameSchema).default(["authorization", "cookie"]),
  /** Auth response headers copied onto the request to the app when it allows (identity headers). */
  upstreamHeaders: z.array(headerNameSchema).default([]),
  /** Auth response headers passed to the client when it denies (challenge, login redirect). */
  clientHeaders: z.array(headerNameSchema).default(["www-authenticate", "location", "set-cookie"]),
  /** The auth response header naming the user (the principal's subject), if any. */
  subjectFrom: headerNameSchema.optional(),
  /** The header the subject goes upstream in ("" for none). */
  subjectHeader: z.union([headerNameSchema, z.literal("")]).default("x-auth-subject"),
  /** The auth service down, slow or failing: deny (fail closed, 503) or allow. */
  failureMode: z.enum(["deny", "allow"]).default("deny"),
  /**
   * Pass `Authorization` on to the app (default: removed once the auth service has seen it).
   * Cookies always pass: the app's own cookies travel in the same header.
   */
  passCredential: z.boolean().default(false),
  failedAttempts: failedAttemptsSchema,
});
export type ForwardAuthConfig = z.infer<typeof forwardAuthSchema>;

/**
 * Forward auth (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz over HTTP): the
 * auth service decides; its 401/403/3xx goes to the client with the selected headers, its 2xx
 * lets the request on with the selected identity headers. Errors fail closed unless told.
 */
export function forwardAuth(config: ForwardAuthConfig, ctx: FilterBuildContext): ProxyFilter {
  const http = new HttpClient({ timeoutSeconds: config.timeoutSeconds, tls: config.tls });
  const outcome = new AuthOutcome(ctx, {
    filter: "forward-auth",
    failedAttempts: config.failedAttempts,
    subjectHeader: config.subjectHeader,
  });
  const options = { ...config };
  return {
    type: "forward-auth",
    identityHeaders: [
      ...config.upstreamHeaders,
      ...(config.subjectHeader ? [config.subjectHeader] : []),
    ],
    onRequest: async function forwardAuthRequest(request: FilterContext) {
      const throttled = outcome.throttled(request);
      if (throttled) return throttled;
      const query = request.url.indexOf("?");
      const tls = "encrypted" in request.socket;
      const decision = await askAuthService(http, options, {
        method: request.method,
        uri: query === -1 ? request.path : request.path + request.url.slice(query),
        host: typeof request.headers.host === "string" ? request.headers.host : "",
        proto: tls ? "https" : "http",
        clientAddress: request.clientAddress,
        headers: request.headers,
      });
      if (!config.passCredential) request.removeRequestHeader("authorization");
      if ("error" in decision) {
        request.logger.warn(
          { filter: "forward-auth", error: decision.error, failureMode: config.failureMode },
          "auth service unavailable",
        );
        if (config.failureMode === "allow") return undefined;
        ctx.metrics.authDenied.inc({
          listener: ctx.listener,
          filter: "forward-auth",
          reason: "error",
        });
        return {
          status: 503,
          code: ProxyErrorCodes.AUTH_SERVICE_UNAVAILABLE,
          flag: "UAEX",
          message: "The auth service is unavailable",
          retryAfterSeconds: 1,
        };
      }
      if (!decision.allow) {
        for (const [name, value] of decision.clientHeaders) request.setResponseHeader(name, value);
        if (decision.status === 401)
          return outcome.unauthenticated(
            request,
            "denied",
            decision.clientHeaders.find(([n]) => n === "www-authenticate")?.[1] ?? "Bearer",
          );
        if (decision.status === 403) return outcome.forbidden(request, "denied");
        return {
          status: decision.status,
          code: ProxyErrorCodes.UNAUTHENTICATED,
          flag: "UAEX",
          message: "Authentication required (redirected by the auth service)",
        };
      }
      let subject = "";
      for (const [name, value] of decision.upstreamHeaders) {
        request.setRequestHeader(name, value);
        if (name === config.subjectFrom) subject = value;
      }
      return outcome.allowed(request, {
        method: "forward-auth",
        subject,
        scopes: [],
        groups: [],
      });
    },
    close: () => http.close(),
  };
}

export const forwardAuthFilter = defineComponent({
  type: "forward-auth",
  schema: forwardAuthSchema,
  build: forwardAuth,
});
