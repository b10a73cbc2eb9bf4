import { z } from "zod";
import { ProxyErrorCodes } from "../../error-codes.ts";
import type { LocalReply } from "../../local-reply.ts";
import type { FilterBuildContext, FilterContext } from "../filter.ts";
import { FailureLimiter } from "./failure-limiter.ts";
import { type Principal, setPrincipal } from "./principal.ts";

/** Failed attempts allowed per client address before its requests get 429 (brute force). */
export const failedAttemptsSchema = z
  .strictObject({
    burst: z.number().int().min(1).default(20),
    perMinute: z.number().positive().default(20),
  })
  .default({ burst: 20, perMinute: 20 });

/** A header name as sent upstream (validated, lower case). */
export const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "expected an HTTP header name" })
  .transform((name) => name.toLowerCase());

/** A value fit for a header: printable ASCII as it is, anything else percent-encoded (UTF-8). */
export function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** Quotes a value for an auth-param (RFC 9110 §11.2): backslash-escape `"` and `\`. */
export function quoted(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

export interface AuthOutcomeOptions {
  filter: string;
  failedAttempts: { burst: number; perMinute: number };
  /** The header the subject goes upstream in; "" for none. */
  subjectHeader: string;
}

/**
 * What every authentication filter does with its verdict, the same way: the 401 (with its
 * WWW-Authenticate) or 403 as a local reply, the reason logged (with a key id, never a key or
 * token) and counted, failed attempts limited per client address, and on success the principal
 * recorded and the subject header set.
 */
export class AuthOutcome {
  readonly #ctx: FilterBuildContext;
  readonly #options: AuthOutcomeOptions;
  readonly #limiter: FailureLimiter;
  readonly #allowedLabels: { listener: string; filter: string };

  constructor(ctx: FilterBuildContext, options: AuthOutcomeOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#limiter = new FailureLimiter(options.failedAttempts, ctx.now);
    this.#allowedLabels = { listener: ctx.listener, filter: options.filter };
  }

  /** A 429 when the client has used up its failed attempts; check it before the credential. */
  throttled(request: FilterContext): LocalReply | undefined {
    const wait = this.#limiter.wait(request.clientAddress);
    if (wait === 0) return undefined;
    this.#count("throttled");
    return {
      status: 429,
      code: ProxyErrorCodes.AUTH_THROTTLED,
      flag: "RL",
      message: "Too many failed authentication attempts from this client",
      retryAfterSeconds: wait,
    };
  }

  /** A 401: `reason` is logged and counted, `challenge` becomes WWW-Authenticate. */
  unauthenticated(
    request: FilterContext,
    reason: string,
    challenge: string,
    log: Record<string, unknown> = {},
  ): LocalReply {
    this.#limiter.fail(request.clientAddress);
    this.#count(reason);
    request.logger.info(
      {
        filter: this.#options.filter,
        reason,
        client: request.clientAddress,
        path: request.path,
        ...log,
      },
      "request not authenticated",
    );
    request.setResponseHeader("www-authenticate", challenge);
    return {
      status: 401,
      code: ProxyErrorCodes.UNAUTHENTICATED,
      flag: "UAEX",
      message: "Authentication required",
    };
  }

  /** A 403 for an authenticated client that may not do this. */
  forbidden(request: FilterContext, reason: string, log: Record<string, unknown> = {}): LocalReply {
    this.#count(reason);
    request.logger.info(
      {
        filter: this.#options.filter,
        reason,
        client: request.clientAddress,
        path: request.path,
        ...log,
      },
      "request not authorized",
    );
    return {
      status: 403,
      code: ProxyErrorCodes.FORBIDDEN,
      flag: "UAEX",
      message: "Not allowed",
    };
  }

  /** Records the principal and passes its subject upstream. */
  allowed(request: FilterContext, principal: Principal): undefined {
    setPrincipal(request, principal);
    if (this.#options.subjectHeader)
      request.setRequestHeader(this.#options.subjectHeader, headerSafe(principal.subject));
    this.#ctx.metrics.authAllowed.inc(this.#allowedLabels);
    return undefined;
  }

  #count(reason: string): void {
    this.#ctx.metrics.authDenied.inc({ ...this.#allowedLabels, reason });
  }
}
