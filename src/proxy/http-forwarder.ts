import { backoffDelay } from "../runtime/backoff.ts";
import { parseRetryAfter } from "../runtime/retry-after.ts";
import type { Cluster } from "./cluster/cluster.ts";
import type { Endpoint } from "./cluster/endpoint.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream/downstream.ts";
import { ProxyErrorCodes } from "./error-codes.ts";
import { addFlag, type Exchange } from "./exchange.ts";
import { downstreamResponseHeaders, forwardedTrailers, withContentLength } from "./hop-headers.ts";
import { type LocalReply, type ResponseHeadersEditor, sendLocalReply } from "./local-reply.ts";
import type { RouteConfig } from "./proxy-config.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import type { PendingTimeout, TimeoutList } from "./timeout-list.ts";
import { slabCopyOf } from "./transport/copy-of.ts";
import { sendWithNodeHttp } from "./transport/node-transport.ts";
import { sendRaw } from "./transport/raw-transport.ts";
import type { TryCallbacks, TryHandle } from "./transport/upstream-transport.ts";
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
export function isReplayable(req: DownstreamRequest): boolean {
  return idempotentMethods.has(req.method!) || req.headers["idempotency-key"] !== undefined;
}

const bodyByDefault = new Set(["POST", "PUT", "PATCH"]);

/** A response body up to this size is written with its head as one string (see onEnd). */
const smallBodyBytes = 2048;

export interface ForwardOptions {
  req: DownstreamRequest;
  res: DownstreamResponse;
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
  new Forwarding(options).attempt();
}

/**
 * One request's forwarding: its tries, retries and timeouts. The request's state is one object
 * whose methods live on the prototype (and each try's is another): the closures a function
 * scope made per request and per try were, after the transport's, the largest allocation of
 * the request path (~1.6 KB at 13 B).
 */
class Forwarding {
  readonly options: ForwardOptions;
  readonly policy: RouteConfig["retries"];
  readonly started: number;
  readonly overallMs: number;
  readonly retryable: boolean;
  readonly send: typeof sendRaw;
  readonly expectsContinue: boolean;
  tries = 0;
  finished = false;
  replied = false;
  responding = false;
  current: TryHandle | undefined;
  overallTimer: PendingTimeout | undefined;
  backoffTimer: NodeJS.Timeout | undefined;
  isRetry = false;
  lastEndpoint: Endpoint | undefined;
  continued = false;
  drainAwaited = false;

  constructor(options: ForwardOptions) {
    const { req, res, exchange, route, cluster, metrics } = options;
    this.options = options;
    this.policy = route.retries;
    this.started = performance.now();
    this.overallMs = route.timeoutSeconds * 1000;
    this.retryable =
      isReplayable(req) &&
      (!options.hasBody || options.body !== undefined) &&
      this.policy.maxRetries > 0;
    this.send = options.needsNodeHttp ? sendWithNodeHttp : sendRaw;
    this.expectsContinue = req.headers.expect?.toLowerCase() === "100-continue";
    cluster.active += 1;
    if (options.routeTimeouts !== undefined) {
      this.overallTimer = options.routeTimeouts.add(() => {
        if (this.responding) return;
        metrics.timeouts.inc({ cluster: cluster.name });
        this.fail(
          replyFor("timeout", cluster.name, `no response headers within ${route.timeoutSeconds} s`),
        );
      });
    }
    // The client went away (or the response ended): abort the upstream side. A response closes
    // once: `on` spares the per-request wrapper `once` makes.
    res.on("close", () => {
      if (!res.writableFinished) addFlag(exchange, "DC");
      this.finish();
    });
  }

  /** The client is full: the paused response resumes at the next drain (listened to only then). */
  awaitDrain(): void {
    if (this.drainAwaited) return;
    this.drainAwaited = true;
    this.options.res.once("drain", () => {
      this.drainAwaited = false;
      this.current?.resume();
    });
  }

  /** This request's retry is no longer in flight (its try ended, or the request is over). */
  endRetry(): void {
    if (!this.isRetry) return;
    this.isRetry = false;
    this.options.cluster.activeRetries -= 1;
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.overallTimer?.cancel();
    clearTimeout(this.backoffTimer);
    this.current?.abort();
    this.options.cluster.active -= 1;
    this.endRetry();
    this.options.done();
  }

  fail(reply: LocalReply): void {
    if (this.finished || this.replied) return;
    const { options } = this;
    this.replied = true;
    clearTimeout(this.backoffTimer);
    this.current?.abort();
    this.current = undefined;
    options.exchange.status = reply.status;
    addFlag(options.exchange, reply.flag);
    options.exchange.bytesSent += sendLocalReply(
      options.res,
      reply,
      options.exchange.requestId,
      options.draining(),
      options.responseHeaders,
    );
  }

  canRetry(why: TryFailure | "502" | "503" | "504"): boolean {
    const { policy } = this;
    if (
      !this.retryable ||
      this.tries > policy.maxRetries ||
      this.responding ||
      this.replied ||
      this.finished
    )
      return false;
    const on = policy.retryOn;
    // A malformed response is retried as a reset would be (the connection is closed either way).
    const reason = why === "protocol" ? "reset" : why;
    const allowed =
      on.includes("5xx") || (reason === "timeout" ? on.includes("504") : on.includes(reason));
    if (!allowed) return false;
    if (this.overallMs > 0 && performance.now() - this.started >= this.overallMs) return false;
    // Every retry, not only a request's first, must fit the budget (as Envoy's): the retry that
    // just failed leaves the count first, then the next one is admitted or not.
    this.endRetry();
    if (!this.options.cluster.retryAllowed(policy.budgetPercent, policy.minRetryConcurrency)) {
      addFlag(this.options.exchange, "URX");
      return false;
    }
    return true;
  }

  /** Retries after the jittered backoff, or after `atLeastMs` (the upstream's Retry-After). */
  retry(atLeastMs = 0): void {
    const { policy, options } = this;
    if (!this.isRetry) {
      this.isRetry = true;
      options.cluster.activeRetries += 1;
    }
    options.metrics.retries.inc({ cluster: options.cluster.name });
    const delayMs = backoffDelay(
      this.tries,
      {
        initialMs: policy.backoffBaseSeconds * 1000,
        maxMs: policy.backoffMaxSeconds * 1000,
        jitter: "full",
      },
      atLeastMs,
    );
    this.backoffTimer = setTimeout(() => this.attempt(), delayMs);
  }

  /**
   * The wait an upstream's Retry-After asks for before a retry: 0 without one, undefined when it
   * is longer than the policy allows or than the route timeout leaves (then the response is
   * passed on, Retry-After included).
   */
  retryAfterWait(rawHeaders: readonly string[]): number | undefined {
    let value: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2)
      if (rawHeaders[i]!.toLowerCase() === "retry-after") value = rawHeaders[i + 1];
    const waitMs = parseRetryAfter(value, Date.now());
    if (waitMs === undefined) return 0;
    if (waitMs > this.policy.maxRetryAfterSeconds * 1000) return undefined;
    if (this.overallMs > 0 && performance.now() - this.started + waitMs >= this.overallMs)
      return undefined;
    return waitMs;
  }

  attempt(): void {
    if (this.finished || this.replied) return;
    const { options } = this;
    const { cluster } = options;
    this.tries += 1;
    const endpoint = cluster.pick(this.lastEndpoint);
    if (!endpoint) {
      this.fail({
        status: 503,
        code: ProxyErrorCodes.NO_HEALTHY_UPSTREAM,
        flag: "UH",
        message: `No healthy endpoint in cluster "${cluster.name}"`,
        retryAfterSeconds: 1,
      });
      return;
    }
    this.lastEndpoint = endpoint;
    options.exchange.endpoint = endpoint;
    endpoint.active += 1;
    const attempt = new Attempt(this, endpoint);
    const handle = this.send(
      endpoint,
      {
        method: options.req.method!,
        path: options.path,
        headers: options.headers,
        body: options.body ?? (options.hasBody ? options.req : undefined),
        connectTimeoutMs: cluster.config.connectTimeoutSeconds * 1000,
        bodyIdleMs: options.streamIdleMs,
      },
      attempt,
    );
    attempt.handle = handle;
    this.current = handle;
    const { route } = options;
    if (route.perTryTimeoutSeconds > 0)
      attempt.tryTimer = setTimeout(() => {
        if (this.responding) return;
        handle.abort();
        attempt.tryFailed(
          "timeout",
          `no response headers within the per-try timeout ${route.perTryTimeoutSeconds} s`,
          false,
        );
      }, route.perTryTimeoutSeconds * 1000);
  }
}

/** One try of a Forwarding on one endpoint: what its transport reports. */
class Attempt implements TryCallbacks {
  readonly #f: Forwarding;
  readonly #endpoint: Endpoint;
  #over = false;
  handle: TryHandle | undefined;
  tryTimer: NodeJS.Timeout | undefined;

  constructor(forwarding: Forwarding, endpoint: Endpoint) {
    this.#f = forwarding;
    this.#endpoint = endpoint;
  }

  /** Ends the try's hold on its endpoint; false when it was over already. */
  #release(): boolean {
    if (this.#over) return false;
    this.#over = true;
    clearTimeout(this.tryTimer);
    this.#endpoint.active -= 1;
    return true;
  }

  tryFailed(why: TryFailure, detail: string, afterHead: boolean): void {
    if (!this.#release()) return;
    const f = this.#f;
    if (f.current === this.handle) f.current = undefined;
    if (f.finished || f.replied) return;
    const { exchange, cluster, metrics } = f.options;
    if (afterHead || f.responding) {
      // The response was already being streamed: all we can do is reset the client.
      addFlag(exchange, why === "timeout" ? "SI" : why === "protocol" ? "UPE" : "UC");
      f.options.res.destroy();
      return;
    }
    cluster.reportFailure(this.#endpoint);
    if (f.canRetry(why)) {
      f.retry();
      return;
    }
    if (f.tries > 1) addFlag(exchange, "URX");
    if (why === "timeout") metrics.timeouts.inc({ cluster: cluster.name });
    f.fail(replyFor(why, cluster.name, detail));
  }

  onContinue(): void {
    const f = this.#f;
    const { res } = f.options;
    // Relayed once, and only to a client that asked for it.
    if (f.continued || res.headersSent || !f.expectsContinue) return;
    f.continued = true;
    res.writeContinue();
  }

  onInfo(status: number, rawHeaders: string[]): void {
    const { res } = this.#f.options;
    if (status !== 103 || res.headersSent || this.#over) return;
    const links: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2)
      if (rawHeaders[i]!.toLowerCase() === "link") links.push(rawHeaders[i + 1]!);
    if (links.length > 0) res.writeEarlyHints({ link: links });
  }

  onHead(
    status: number,
    message: string,
    rawHeaders: string[],
    contentLength: number | undefined,
  ): boolean {
    const f = this.#f;
    if (this.#over || f.finished || f.replied) return false;
    const { options } = f;
    const { cluster, exchange } = options;
    clearTimeout(this.tryTimer);
    if (status >= 500) cluster.reportFailure(this.#endpoint);
    else cluster.reportSuccess(this.#endpoint);
    const waitMs =
      status === 502 || status === 503 || status === 504 ? f.retryAfterWait(rawHeaders) : undefined;
    if (waitMs !== undefined && f.canRetry(String(status) as "502")) {
      this.#release();
      f.current = undefined;
      f.retry(waitMs);
      return false;
    }
    if (f.tries > 1 && status >= 500) addFlag(exchange, "URX");
    f.responding = true;
    f.overallTimer?.cancel();
    exchange.upstreamTime = performance.now() - f.started;
    exchange.status = status;
    // Framed by the proxy from what it forwards, never by the upstream's Content-Length.
    const headers = withContentLength(downstreamResponseHeaders(rawHeaders), status, contentLength);
    if (options.draining()) headers.push("connection", "close");
    options.responseHeaders?.editResponseHeaders(status, headers);
    options.res.writeHead(status, message, headers);
    return true;
  }

  onData(chunk: Buffer, view: boolean): boolean {
    const { exchange, res } = this.#f.options;
    exchange.bytesSent += chunk.length;
    let written: boolean;
    if (view) {
      // The socket keeps what it is given until written (corked, or a full socket).
      const [copy, done] = slabCopyOf(chunk);
      written = res.write(copy, done);
    } else written = res.write(chunk);
    if (written) return true;
    // node:http corks a response's socket until the next tick when it writes the head, so a
    // first chunk over the socket's high-water mark reports it full before any write was
    // tried. Sent now (the same writev of head and chunk), it usually goes at once, and the
    // upstream socket is not paused and resumed for nothing (an epoll change each).
    const socket = res.socket;
    if (socket !== null && socket.writableCorked > 0) {
      socket.uncork();
      if (socket.writableLength < socket.writableHighWaterMark) return true;
    }
    this.#f.awaitDrain();
    return false;
  }

  onEnd(rawTrailers: string[], lastChunk?: Buffer): void {
    this.#release();
    const { exchange, res } = this.#f.options;
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
      // A copy: lastChunk may be a view of the transport's read buffer, and the socket may
      // keep what it is given (corked, or a partial write).
      else {
        const [copy, done] = slabCopyOf(lastChunk);
        res.end(copy, done);
      }
    }
  }

  onBodySent(bytes: number): void {
    const f = this.#f;
    const { options } = f;
    if (options.body) return; // counted once when buffered
    const { exchange } = options;
    exchange.bytesReceived += bytes;
    if (exchange.bytesReceived > options.maxBodyBytes && !f.replied) {
      this.#release();
      options.res.shouldKeepAlive = false;
      f.fail({
        status: 413,
        code: ProxyErrorCodes.BODY_TOO_LARGE,
        flag: "DPE",
        message: `Request body is over ${options.maxBodyBytes} bytes`,
      });
    }
  }

  onError(failure: TryFailure, detail: string, afterHead: boolean): void {
    this.tryFailed(failure, detail, afterHead);
  }
}

export function methodHasBodyByDefault(method: string): boolean {
  return bodyByDefault.has(method);
}
