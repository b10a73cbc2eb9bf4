import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { z } from "zod";
import type { Component } from "../../runtime/component.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import type { LocalReply } from "../local-reply.ts";
import type { ProxyMetrics } from "../proxy-metrics.ts";

/**
 * What a filter sees of one request and what it may change. Built only when the request's chain
 * has filters; the listener fills it in, so a filter never reads `req.socket` itself.
 */
export interface FilterContext {
  readonly listener: string;
  /** The matched route's name; "" when no route matched (listener filters run, then 404). */
  readonly route: string;
  readonly method: string;
  /** The request target as the client sent it (path and query, or absolute-form). */
  readonly url: string;
  /**
   * The target's path without the query, normalized as routes match it and as the app receives
   * it (`/public/../admin` is `/admin`); authorize on this, never on `url`.
   */
  readonly path: string;
  /** The request's headers as received (lower-case names); change them with setRequestHeader. */
  readonly headers: IncomingHttpHeaders;
  /** The client, as the listener's `clientAddress` resolver found it (see docs/proxy.md). */
  readonly clientAddress: string;
  /** The socket peer (the last hop), whether or not it is trusted. */
  readonly peerAddress: string;
  /** An Upgrade (WebSocket, h2c, …) request, to be tunnelled. */
  readonly upgrade: boolean;
  /** The client connection; a TLSSocket (certificate, SNI, ALPN) once listeners terminate TLS. */
  readonly socket: Socket;
  /** The listener's logger, with listener and route bound. */
  readonly logger: Logger;
  /** Sets a header on the request sent upstream (replacing every header of that name). */
  setRequestHeader(name: string, value: string): void;
  /** Removes a header from the request sent upstream (e.g. a credential the app must not see). */
  removeRequestHeader(name: string): void;
  /**
   * Removes every `name=…` parameter from the query sent upstream and from the target the
   * access log shows (a credential in the URL).
   */
  removeQueryParameter(name: string): void;
  /** Sets a header on the response sent to the client: the app's, a local reply or a 101. */
  setResponseHeader(name: string, value: string): void;
  removeResponseHeader(name: string): void;
}

/** undefined lets the request go on; a LocalReply answers it here (the app never sees it). */
export type FilterResult = LocalReply | undefined;

/**
 * One built filter. `onRequest` runs in chain order (listener filters, then the route's) and may
 * return a promise (forward auth awaits a call); a chain whose filters all answer synchronously
 * stays synchronous. `onResponse` runs in reverse order just before the response head is sent.
 * A filter that throws (or rejects) fails the request with a 500 that never reaches the app.
 */
export interface ProxyFilter {
  readonly type: string;
  onRequest(ctx: FilterContext): FilterResult | Promise<FilterResult>;
  onResponse?(ctx: FilterContext, status: number): void;
  /**
   * Headers this filter sets on the request to the app to say who the client is: the listener
   * removes the client's own copies of them (any case, `_` for `-`) from every request.
   */
  readonly identityHeaders?: readonly string[];
  /** Releases what the filter holds (file watchers, HTTP pools); called once when the listener stops. */
  close?(): void;
}

/** What a filter gets to build itself. */
export interface FilterBuildContext {
  listener: string;
  /** The route's name for a route filter; undefined for a listener filter. */
  route: string | undefined;
  logger: Logger;
  metrics: ProxyMetrics;
  /** Monotonic milliseconds (performance.now); replaceable in tests. */
  now: () => number;
}

/** A filter type: its `type` name, strict config schema and `build`. */
export type FilterComponent<Schema extends z.ZodType = z.ZodType> = Component<
  Schema,
  ProxyFilter,
  FilterBuildContext
>;
