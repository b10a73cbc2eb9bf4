import type { IncomingMessage, ServerResponse } from "node:http";
import { backoffDelay } from "../runtime/backoff.ts";
import { parseRetryAfter } from "../runtime/retry-after.ts";
import type { Cluster } from "./cluster/cluster.ts";
import type { Endpoint } from "./cluster/endpoint.ts";
import { ProxyErrorCodes } from "./error-codes.ts";
import { addFlag, type Exchange } from "./exchange.ts";
import { downstreamResponseHeaders, forwardedTrailers, withContentLength } from "./hop-headers.ts";
import { type LocalReply, type ResponseHeadersEditor, sendLocalReply } from "./local-reply.ts";
import type { RouteConfig } from "./proxy-config.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import type { PendingTimeout, TimeoutList } from "./timeout-list.ts";
import { sendWithNodeHttp } from "./transport/node-transport.ts";
import { sendRaw } from "./transport/raw-transport.ts";
import type { TryHandle } from "./transport/upstream-transport.ts";
import { replyFor, type TryFailure } from "./upstream-errors.ts";

/** Methods retried on failure (RFC 9110 §9.2.2). */
const idempotentMethods: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

/**
 * Whether a failed try of this request may be sent again: an idempotent method, or any method
 * with an `Idempotency-Key` header (the client made it safe to repeat, as Go's http.Transport
 * and Stripe-style APIs agree).
 */
export function isReplayable(req: IncomingMessage): boolean {
  return idempotentMethods.has(req.method!) || req.headers["idempotency-key"] !== undefined;
}

const bodyByDefault = new Set(["POST", "PUT", "PATCH"]);

/** A response body up to this size is written with its head as one string (see onEnd). */
const smallBodyBytes = 2048;

export interface ForwardOptions {
  req: IncomingMessage;
  res: ServerResponse;
  exchange: Exchange;
  route: RouteConfig;
  cluster: Cluster;
  /** Request target sent upstream (origin-form). */
  path: string;
  headers: string[];
  hasBody: boolean;
  /** The whole body, when it was buffered (small, idempotent): then the request can be retried. */
  body?: Buffer | undefined;
  /** The body is chunked or the client expects 100-continue: use the node:http transport. */
  needsNodeHttp: boolean;
  maxBodyBytes: number;
  streamIdleMs: number;
  metrics: ProxyMetrics;
  /** The route's timeouts (route.timeoutSeconds); undefined when the route has none. */
  routeTimeouts: TimeoutList | undefined;
  /** True while the listener drains: responses carry Connection: close. */
  draining: () => boolean;
  /** Called once the exchange is over (response finished or aborted). */
  done: () => void;
  /** The filters' edits to the response head (the app's or a generated one). */
  responseHeaders?: ResponseHeadersEditor | undefined;
}

/**
 * Forwards one request to `cluster` with timeouts, retries (idempotent, bodiless requests only),
 * outlier reporting and streaming both ways with backpressure.
 */
export function forward(options: ForwardOptions): void {
  const { req, res, exchange, route, cluster, metrics } = options;
  const policy = route.retries;
  const started = performance.now();
  const overallMs = route.timeoutSeconds * 1000;
  const perTryMs = route.perTryTimeoutSeconds * 1000;
  const buffered = options.body;
  const retryable =
    isReplayable(req) && (!options.hasBody || buffered !== undefined) && policy.maxRetries > 0;
  const send = options.needsNodeHttp ? sendWithNodeHttp : sendRaw;
  let tries = 0;
  let finished = false;
  let replied = false;
  let responding = false;
  let current: TryHandle | undefined;
  let overallTimer: PendingTimeout | undefined;
  let backoffTimer: NodeJS.Timeout | undefined;
  let isRetry = false;
  let lastEndpoint: Endpoint | undefined;
  let continued = false;
  const expectsContinue = req.headers.expect?.toLowerCase() === "100-continue";

  cluster.active += 1;
  /** This request's retry is no longer in flight (its try ended, or the request is over). */
  const endRetry = () => {
    if (!isRetry) return;
    isRetry = false;
    cluster.activeRetries -= 1;
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    overallTimer?.cancel();
    clearTimeout(backoffTimer);
    current?.abort();
    cluster.active -= 1;
    endRetry();
    options.done();
  };

  const fail = (reply: LocalReply) => {
    if (finished || replied) return;
    replied = true;
    clearTimeout(backoffTimer);
    current?.abort();
    current = undefined;
    exchange.status = reply.status;
    addFlag(exchange, reply.flag);
    exchange.bytesSent += sendLocalReply(
      res,
      reply,
      exchange.requestId,
      options.draining(),
      options.responseHeaders,
    );
  };

  if (options.routeTimeouts !== undefined) {
    overallTimer = options.routeTimeouts.add(() => {
      if (responding) return;
      metrics.timeouts.inc({ cluster: cluster.name });
      fail(
        replyFor("timeout", cluster.name, `no response headers within ${route.timeoutSeconds} s`),
      );
    });
  }

  // The client went away (or the response ended): abort the upstream side. A response closes
  // once: `on` spares the per-request wrapper `once` makes.
  res.on("close", () => {
    if (!res.writableFinished) addFlag(exchange, "DC");
    finish();
  });
  res.on("drain", () => current?.resume());

  const canRetry = (why: TryFailure | "502" | "503" | "504"): boolean => {
    if (!retryable || tries > policy.maxRetries || responding || replied || finished) return false;
    const on = policy.retryOn;
    // A malformed response is retried as a reset would be (the connection is closed either way).
    const reason = why === "protocol" ? "reset" : why;
    const allowed =
      on.includes("5xx") || (reason === "timeout" ? on.includes("504") : on.includes(reason));
    if (!allowed) return false;
    if (overallMs > 0 && performance.now() - started >= overallMs) return false;
    // Every retry, not only a request's first, must fit the budget (as Envoy's): the retry that
    // just failed leaves the count first, then the next one is admitted or not.
    endRetry();
    if (!cluster.retryAllowed(policy.budgetPercent, policy.minRetryConcurrency)) {
      addFlag(exchange, "URX");
      return false;
    }
    return true;
  };

  /** Retries after the jittered backoff, or after `atLeastMs` (the upstream's Retry-After). */
  const retry = (atLeastMs = 0) => {
    if (!isRetry) {
      isRetry = true;
      cluster.activeRetries += 1;
    }
    metrics.retries.inc({ cluster: cluster.name });
    const delayMs = backoffDelay(
      tries,
      {
        initialMs: policy.backoffBaseSeconds * 1000,
        maxMs: policy.backoffMaxSeconds * 1000,
        jitter: "full",
      },
      atLeastMs,
    );
    backoffTimer = setTimeout(attempt, delayMs);
  };

  /**
   * The wait an upstream's Retry-After asks for before a retry: 0 without one, undefined when it
   * is longer than the policy allows or than the route timeout leaves (then the response is
   * passed on, Retry-After included).
   */
  const retryAfterWait = (rawHeaders: readonly string[]): number | undefined => {
    let value: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2)
      if (rawHeaders[i]!.toLowerCase() === "retry-after") value = rawHeaders[i + 1];
    const waitMs = parseRetryAfter(value, Date.now());
    if (waitMs === undefined) return 0;
    if (waitMs > policy.maxRetryAfterSeconds * 1000) return undefined;
    if (overallMs > 0 && performance.now() - started + waitMs >= overallMs) return undefined;
    return waitMs;
  };

  function attempt(): void {
    if (finished || replied) return;
    tries += 1;
    const endpoint = cluster.pick(lastEndpoint);
    if (!endpoint) {
      fail({
        status: 503,
        code: ProxyErrorCodes.NO_HEALTHY_UPSTREAM,
        flag: "UH",
        message: `No healthy endpoint in cluster "${cluster.name}"`,
        retryAfterSeconds: 1,
      });
      return;
    }
    lastEndpoint = endpoint;
    exchange.endpoint = endpoint;
    endpoint.active += 1;
    let over = false;
    let tryTimer: NodeJS.Timeout | undefined;
    const release = () => {
      if (over) return false;
      over = true;
      clearTimeout(tryTimer);
      endpoint.active -= 1;
      return true;
    };

    const tryFailed = (why: TryFailure, detail: string, afterHead: boolean) => {
      if (!release()) return;
      if (current === handle) current = undefined;
      if (finished || replied) return;
      if (afterHead || responding) {
        // The response was already being streamed: all we can do is reset the client.
        addFlag(exchange, why === "timeout" ? "SI" : why === "protocol" ? "UPE" : "UC");
        res.destroy();
        return;
      }
      cluster.reportFailure(endpoint);
      if (canRetry(why)) return retry();
      if (tries > 1) addFlag(exchange, "URX");
      if (why === "timeout") metrics.timeouts.inc({ cluster: cluster.name });
      fail(replyFor(why, cluster.name, detail));
    };

    const handle: TryHandle = send(
      endpoint,
      {
        method: req.method!,
        path: options.path,
        headers: options.headers,
        body: buffered ?? (options.hasBody ? req : undefined),
        connectTimeoutMs: cluster.config.connectTimeoutSeconds * 1000,
        bodyIdleMs: options.streamIdleMs,
      },
      {
        onContinue() {
          // Relayed once, and only to a client that asked for it.
          if (continued || res.headersSent || !expectsContinue) return;
          continued = true;
          res.writeContinue();
        },
        onInfo(status, rawHeaders) {
          if (status !== 103 || res.headersSent || over) return;
          const links: string[] = [];
          for (let i = 0; i < rawHeaders.length; i += 2)
            if (rawHeaders[i]!.toLowerCase() === "link") links.push(rawHeaders[i + 1]!);
          if (links.length > 0) res.writeEarlyHints({ link: links });
        },
        onHead(status, message, rawHeaders, contentLength) {
          if (over || finished || replied) return false;
          clearTimeout(tryTimer);
          if (status >= 500) cluster.reportFailure(endpoint);
          else cluster.reportSuccess(endpoint);
          const waitMs =
            status === 502 || status === 503 || status === 504
              ? retryAfterWait(rawHeaders)
              : undefined;
          if (waitMs !== undefined && canRetry(String(status) as "502")) {
            release();
            current = undefined;
            retry(waitMs);
            return false;
          }
          if (tries > 1 && status >= 500) addFlag(exchange, "URX");
          responding = true;
          overallTimer?.cancel();
          exchange.upstreamTime = performance.now() - started;
          exchange.status = status;
          // Framed by the proxy from what it forwards, never by the upstream's Content-Length.
          const headers = withContentLength(
            downstreamResponseHeaders(rawHeaders),
            status,
            contentLength,
          );
          if (options.draining()) headers.push("connection", "close");
          options.responseHeaders?.editResponseHeaders(status, headers);
          res.writeHead(status, message, headers);
          return true;
        },
        onData(chunk) {
          exchange.bytesSent += chunk.length;
          return res.write(chunk);
        },
        onEnd(rawTrailers, lastChunk) {
          release();
          if (rawTrailers.length > 0) {
            const trailers = forwardedTrailers(rawTrailers);
            if (trailers.length > 0) res.addTrailers(trailers);
          }
          if (lastChunk === undefined) res.end();
          else {
            exchange.bytesSent += lastChunk.length;
            // A small body goes as latin1 text (the same bytes): node:http then joins it to the
            // head and sends one string with one write, instead of a writev of a string and a
            // buffer (~2% of the CPU at 13 B).
            if (lastChunk.length <= smallBodyBytes) res.end(lastChunk.toString("latin1"), "latin1");
            else res.end(lastChunk);
          }
        },
        onBodySent(bytes) {
          if (buffered) return; // counted once when buffered
          exchange.bytesReceived += bytes;
          if (exchange.bytesReceived > options.maxBodyBytes && !replied) {
            release();
            res.shouldKeepAlive = false;
            fail({
              status: 413,
              code: ProxyErrorCodes.BODY_TOO_LARGE,
              flag: "DPE",
              message: `Request body is over ${options.maxBodyBytes} bytes`,
            });
          }
        },
        onError: tryFailed,
      },
    );
    current = handle;
    if (perTryMs > 0)
      tryTimer = setTimeout(() => {
        if (responding) return;
        handle.abort();
        tryFailed(
          "timeout",
          `no response headers within the per-try timeout ${route.perTryTimeoutSeconds} s`,
          false,
        );
      }, perTryMs);
  }

  attempt();
}

export function methodHasBodyByDefault(method: string): boolean {
  return bodyByDefault.has(method);
}
