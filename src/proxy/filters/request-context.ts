import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { http } from "../../runtime/builtins.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import type { DownstreamRequest } from "../downstream/downstream.ts";
import type { ResponseHeadersEditor } from "../local-reply.ts";
import type { FilterContext } from "./filter.ts";
import type { FilterChain } from "./filter-chain.ts";

/** Headers the proxy frames or routes by; a filter may not set or remove them. */
const reserved = new Set([
  "connection",
  "content-length",
  "host",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function checkName(name: string): string {
  http.validateHeaderName(name);
  const lower = name.toLowerCase();
  if (reserved.has(lower))
    throw new TypeError(`Header "${name}" is framed by the proxy: a filter may not change it`);
  return lower;
}

/** Applies [op, name, value] edits to raw [name, value, …] pairs; op "s" sets, "r" removes. */
function apply(edits: readonly string[], headers: string[]): void {
  for (let e = 0; e < edits.length; e += 3) {
    const name = edits[e + 1]!;
    for (let i = headers.length - 2; i >= 0; i -= 2)
      if (headers[i]!.length === name.length && headers[i]!.toLowerCase() === name)
        headers.splice(i, 2);
    if (edits[e] === "s") headers.push(name, edits[e + 2]!);
  }
}

/** One request's filter context: what the filters see, and the header edits they asked for. */
export class RequestFilterContext implements FilterContext, ResponseHeadersEditor {
  readonly listener: string;
  readonly route: string;
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly clientAddress: string;
  readonly peerAddress: string;
  readonly upgrade: boolean;
  readonly socket: Socket;
  readonly logger: Logger;
  readonly #chain: FilterChain;
  /** [op, name, value, …] edits, op "s" (set) or "r" (remove). */
  readonly #up: string[] = [];
  readonly #down: string[] = [];
  readonly #queryRemovals: string[] = [];

  constructor(
    req: DownstreamRequest,
    chain: FilterChain,
    at: {
      listener: string;
      route: string;
      clientAddress: string;
      upgrade: boolean;
      /** The normalized path the route matched (what the app receives), when routed. */
      path?: string | undefined;
    },
  ) {
    this.listener = at.listener;
    this.route = at.route;
    this.method = req.method!;
    this.url = req.url!;
    const query = this.url.indexOf("?");
    this.path = at.path ?? (query === -1 ? this.url : this.url.slice(0, query));
    this.headers = req.headers;
    this.clientAddress = at.clientAddress;
    this.peerAddress = req.socket.remoteAddress ?? "";
    this.upgrade = at.upgrade;
    this.socket = req.socket;
    this.logger = chain.logger;
    this.#chain = chain;
  }

  setRequestHeader(name: string, value: string): void {
    const lower = checkName(name);
    http.validateHeaderValue(name, value);
    this.#up.push("s", lower, value);
  }

  removeRequestHeader(name: string): void {
    this.#up.push("r", checkName(name), "");
  }

  setResponseHeader(name: string, value: string): void {
    const lower = checkName(name);
    http.validateHeaderValue(name, value);
    this.#down.push("s", lower, value);
  }

  removeResponseHeader(name: string): void {
    this.#down.push("r", checkName(name), "");
  }

  removeQueryParameter(name: string): void {
    this.#queryRemovals.push(name);
  }

  /** The target (path and query) without the query parameters the filters removed. */
  editTarget(target: string): string {
    if (this.#queryRemovals.length === 0) return target;
    const q = target.indexOf("?");
    if (q === -1) return target;
    const kept = target
      .slice(q + 1)
      .split("&")
      .filter((part) => {
        const raw = part.split("=", 1)[0]!;
        let name = raw;
        try {
          name = decodeURIComponent(raw.replaceAll("+", " "));
        } catch {}
        return !this.#queryRemovals.includes(name);
      });
    return kept.length === 0 ? target.slice(0, q) : `${target.slice(0, q)}?${kept.join("&")}`;
  }

  /** Applies the request edits to the raw headers about to go upstream. */
  editRequestHeaders(headers: string[]): void {
    if (this.#up.length > 0) apply(this.#up, headers);
  }

  /** Runs the filters' response hooks, then applies the response edits to the raw headers. */
  editResponseHeaders(status: number, headers: string[]): void {
    this.#chain.respond(this, status);
    if (this.#down.length > 0) apply(this.#down, headers);
  }
}
