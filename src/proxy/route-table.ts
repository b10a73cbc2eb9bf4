import type { IncomingHttpHeaders } from "node:http";
import type { RouteConfig } from "./proxy-config.ts";

export interface RouteRequest {
  method: string;
  /** The normalized path without the query (path-normalizer.ts). */
  path: string;
  /** `path` in lower case; RouteTable.match fills it in once for every route. */
  lowerPath?: string;
  /** Host without port, lower case. */
  host: string;
  headers: IncomingHttpHeaders;
}

type Predicate = (request: RouteRequest) => boolean;

export interface CompiledRoute {
  /** Bounded label: the route's name, else "route<index>". */
  name: string;
  config: RouteConfig;
  matches: Predicate;
}

function hostPredicate(pattern: string): Predicate {
  const lower = pattern.toLowerCase();
  if (lower.startsWith("*.")) {
    const suffix = lower.slice(1);
    return (r) => r.host.endsWith(suffix) && r.host.length > suffix.length;
  }
  return (r) => r.host === lower;
}

function compile(route: RouteConfig, index: number): CompiledRoute {
  const checks: Predicate[] = [];
  const { match } = route;
  // Case-insensitive unless the route says otherwise: many apps (Express, ASP.NET) route
  // `/ADMIN` to `/admin`, so a case-sensitive protected route could be walked around.
  const fold = match.caseSensitive ? (p: string) => p : (p: string) => p.toLowerCase();
  const pathOf = match.caseSensitive
    ? (r: RouteRequest) => r.path
    : (r: RouteRequest) => r.lowerPath ?? r.path.toLowerCase();
  if (match.path !== undefined) {
    // With or without one trailing slash, as most frameworks treat them alike.
    const path = fold(match.path.length > 1 ? match.path.replace(/\/$/, "") : match.path);
    const slashed = `${path}/`;
    checks.push((r) => {
      const p = pathOf(r);
      return p === path || p === slashed;
    });
  } else if (match.regex !== undefined) {
    const regex = new RegExp(`^(?:${match.regex})$`, match.caseSensitive ? "" : "i");
    checks.push((r) => regex.test(r.path));
  } else if (match.prefix !== undefined && match.prefix !== "/") {
    const prefix = fold(match.prefix);
    checks.push((r) => pathOf(r).startsWith(prefix));
  }
  if (match.host !== undefined) checks.push(hostPredicate(match.host));
  if (match.methods !== undefined) {
    const methods = new Set(match.methods);
    checks.push((r) => methods.has(r.method));
  }
  for (const header of match.headers ?? []) {
    const name = header.name.toLowerCase();
    const value = (r: RouteRequest) => {
      const v = r.headers[name];
      return Array.isArray(v) ? v.join(",") : v;
    };
    if (header.exact !== undefined) {
      const exact = header.exact;
      checks.push((r) => value(r) === exact);
    } else if (header.regex !== undefined) {
      const regex = new RegExp(`^(?:${header.regex})$`);
      checks.push((r) => {
        const v = value(r);
        return v !== undefined && regex.test(v);
      });
    } else if (header.present === false) checks.push((r) => value(r) === undefined);
    else checks.push((r) => value(r) !== undefined);
  }
  const matches: Predicate =
    checks.length === 0
      ? () => true
      : checks.length === 1
        ? checks[0]!
        : (r) => checks.every((check) => check(r));
  return { name: route.name ?? `route${index}`, config: route, matches };
}

/**
 * A listener's routes, tried in order; the first match wins (as in Envoy).
 *
 * @example
 * const table = new RouteTable([{ match: { prefix: "/api" }, cluster: "api", … }]);
 * table.match({ method: "GET", path: "/api/x", host: "a", headers: {} })?.config.cluster; // "api"
 */
export class RouteTable {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly RouteConfig[]) {
    this.#routes = routes.map(compile);
  }

  /** The routes, in order. */
  get routes(): readonly CompiledRoute[] {
    return this.#routes;
  }

  match(request: RouteRequest): CompiledRoute | undefined {
    request.lowerPath ??= request.path.toLowerCase();
    for (const route of this.#routes) if (route.matches(request)) return route;
    return undefined;
  }
}

/** Host header without port, lower case ("[::1]:80" → "[::1]"). */
export function hostWithoutPort(host: string | undefined): string {
  if (!host) return "";
  const lower = host.toLowerCase();
  if (lower.startsWith("[")) {
    const end = lower.indexOf("]");
    return end === -1 ? lower : lower.slice(0, end + 1);
  }
  const colon = lower.indexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}
