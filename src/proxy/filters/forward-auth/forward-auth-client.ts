import type { IncomingHttpHeaders } from "node:http";
import { describeError } from "../../../runtime/errors.ts";
import type { HttpClient } from "../../../runtime/http/http-client.ts";

/** What the auth service is asked about: the client's request as the proxy sees it. */
export interface AuthQuestion {
  method: string;
  /** The normalized path and query the app would receive. */
  uri: string;
  host: string;
  proto: "http" | "https";
  clientAddress: string;
  headers: IncomingHttpHeaders;
}

export interface ForwardAuthOptions {
  url: string;
  method: string;
  /** Client request headers sent to the auth service (lower case), e.g. authorization, cookie. */
  requestHeaders: readonly string[];
  /** Auth response headers copied onto the request to the app when it allows (lower case). */
  upstreamHeaders: readonly string[];
  /** Auth response headers passed to the client when it denies (lower case). */
  clientHeaders: readonly string[];
  timeoutSeconds: number;
}

export type AuthDecision =
  | { allow: true; upstreamHeaders: [string, string][] }
  | { allow: false; status: number; clientHeaders: [string, string][]; reason: string }
  /** The auth service could not answer (unreachable, timed out, 5xx): the caller's failure mode decides. */
  | { error: string };

function pick(headers: IncomingHttpHeaders, names: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, v]);
  }
  return out;
}

/**
 * Asks an HTTP auth service about a request, like nginx `auth_request`, Traefik's ForwardAuth
 * and Envoy's HTTP ext_authz: the selected client headers go along with X-Forwarded-Method,
 * -Uri, -Host, -Proto and -For (set by the proxy, never taken from the client). A 2xx allows;
 * 401, 403 and redirects deny with that status; anything else, a timeout or a connection
 * failure is an error.
 *
 * @example
 * const decision = await askAuthService(http, options, question);
 */
export async function askAuthService(
  http: HttpClient,
  options: ForwardAuthOptions,
  question: AuthQuestion,
  signal?: AbortSignal,
): Promise<AuthDecision> {
  const headers: Record<string, string> = {};
  for (const [name, value] of pick(question.headers, options.requestHeaders))
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  headers["x-forwarded-method"] = question.method;
  headers["x-forwarded-uri"] = question.uri;
  headers["x-forwarded-host"] = question.host;
  headers["x-forwarded-proto"] = question.proto;
  headers["x-forwarded-for"] = question.clientAddress;
  let status: number;
  let responseHeaders: IncomingHttpHeaders;
  try {
    const res = await http.request({
      url: options.url,
      method: options.method,
      headers,
      timeoutSeconds: options.timeoutSeconds,
      maxResponseBytes: 64 * 1024,
      ...(signal ? { signal } : {}),
    });
    status = res.status;
    responseHeaders = res.headers;
  } catch (error) {
    return { error: describeError(error) };
  }
  if (status >= 200 && status < 300)
    return { allow: true, upstreamHeaders: pick(responseHeaders, options.upstreamHeaders) };
  if (status === 401 || status === 403 || (status >= 300 && status < 400))
    return {
      allow: false,
      status,
      clientHeaders: pick(responseHeaders, options.clientHeaders),
      reason: `auth service answered ${status}`,
    };
  return { error: `auth service answered ${status}` };
}
