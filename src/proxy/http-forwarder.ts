import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Cluster } from "./cluster/cluster.ts";
import type { Endpoint } from "./cluster/endpoint.ts";
import { ProxyErrorCodes } from "./error-codes.ts";
import { addFlag, type Exchange } from "./exchange.ts";
import { downstreamResponseHeaders } from "./hop-headers.ts";
import { type LocalReply, sendLocalReply } from "./local-reply.ts";
import type { RouteConfig } from "./proxy-config.ts";
import type { ProxyMetrics } from "./proxy-metrics.ts";
import { classifyError, replyFor, type TryFailure } from "./upstream-errors.ts";

const idempotent = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const bodyByDefault = new Set(["POST", "PUT", "PATCH"]);

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
  maxBodyBytes: number;
  streamIdleMs: number;
  metrics: ProxyMetrics;
  /** True while the listener drains: responses carry Connection: close. */
  draining: () => boolean;
  /** Called once the exchange is over (response finished or aborted). */
  done: () => void;
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
  const retryable = idempotent.has(req.method!) && !options.hasBody && policy.maxRetries > 0;
  let tries = 0;
  let finished = false;
  let current: ClientRequest | undefined;
  let overallTimer: NodeJS.Timeout | undefined;
  let backoffTimer: NodeJS.Timeout | undefined;
  let isRetry = false;
  let lastEndpoint: Endpoint | undefined;

  cluster.active += 1;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(overallTimer);
    clearTimeout(backoffTimer);
    cluster.active -= 1;
    if (isRetry) cluster.activeRetries -= 1;
    options.done();
  };

  let replied = false;
  const fail = (reply: LocalReply) => {
    if (finished || replied) return;
    replied = true;
    clearTimeout(backoffTimer);
    exchange.status = reply.status;
    addFlag(exchange, reply.flag);
    exchange.bytesSent += sendLocalReply(res, reply, exchange.requestId, options.draining());
  };

  if (overallMs > 0) {
    overallTimer = setTimeout(() => {
      if (res.headersSent) return;
      metrics.timeouts.inc({ cluster: cluster.name });
      current?.destroy();
      current = undefined;
      fail(
        replyFor("timeout", cluster.name, `no response headers within ${route.timeoutSeconds} s`),
      );
    }, overallMs);
  }

  // Downstream went away: abort the upstream side.
  res.once("close", () => {
    if (!res.writableFinished) {
      addFlag(exchange, "DC");
      current?.destroy();
    }
    finish();
  });

  const canRetry = (why: TryFailure | "502" | "503" | "504"): boolean => {
    if (!retryable || tries > policy.maxRetries || res.headersSent) return false;
    const on = policy.retryOn;
    const allowed =
      on.includes("5xx") || (why === "timeout" ? on.includes("504") : on.includes(why));
    if (!allowed) return false;
    if (overallMs > 0 && performance.now() - started >= overallMs) return false;
    if (!isRetry && !cluster.retryAllowed(policy.budgetPercent, policy.minRetryConcurrency)) {
      addFlag(exchange, "URX");
      return false;
    }
    return true;
  };

  const retry = () => {
    if (!isRetry) {
      isRetry = true;
      cluster.activeRetries += 1;
    }
    metrics.retries.inc({ cluster: cluster.name });
    const n = tries; // retries so far + 1
    const cap = Math.min(policy.backoffMaxSeconds, policy.backoffBaseSeconds * 2 ** (n - 1)) * 1000;
    backoffTimer = setTimeout(attempt, Math.random() * cap);
  };

  const attempt = () => {
    if (finished || res.headersSent) return;
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
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      endpoint.active -= 1;
    };
    const upReq = request({
      host: endpoint.host,
      port: endpoint.port,
      method: req.method,
      path: options.path,
      headers: options.headers,
      agent: endpoint.agent,
    });
    current = upReq;
    let tryTimer: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let failedAs: TryFailure | undefined;
    let responded = false;
    const tryFailed = (why: TryFailure, detail: string) => {
      clearTimeout(tryTimer);
      clearTimeout(connectTimer);
      release();
      if (current === upReq) current = undefined;
      if (finished || replied) return;
      if (responded || res.headersSent) {
        // The response was already being streamed: all we can do is reset the client.
        addFlag(exchange, "UC");
        res.destroy();
        return;
      }
      if (why !== "timeout" || perTryMs > 0) cluster.reportFailure(endpoint);
      if (canRetry(why)) {
        retry();
        return;
      }
      if (tries > 1) addFlag(exchange, "URX");
      if (why === "timeout") metrics.timeouts.inc({ cluster: cluster.name });
      fail(replyFor(why, cluster.name, detail));
    };
    if (perTryMs > 0)
      tryTimer = setTimeout(() => {
        failedAs = "timeout";
        upReq.destroy();
        tryFailed(
          "timeout",
          `no response headers within the per-try timeout ${route.perTryTimeoutSeconds} s`,
        );
      }, perTryMs);
    upReq.once("socket", (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => {
        const error = new Error(
          `connect timeout after ${cluster.config.connectTimeoutSeconds} s`,
        ) as NodeJS.ErrnoException;
        error.code = "CONNECT_TIMEOUT";
        upReq.destroy(error);
      }, cluster.config.connectTimeoutSeconds * 1000);
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    upReq.on("error", (error: NodeJS.ErrnoException) => {
      if (failedAs) return;
      failedAs = classifyError(error);
      tryFailed(failedAs, error.code ?? error.message);
    });
    upReq.on("continue", () => {
      if (!res.headersSent) res.writeContinue();
    });
    upReq.once("response", (upRes: IncomingMessage) => {
      clearTimeout(tryTimer);
      clearTimeout(connectTimer);
      const status = upRes.statusCode!;
      if (status >= 500) cluster.reportFailure(endpoint);
      else cluster.reportSuccess(endpoint);
      if (
        (status === 502 || status === 503 || status === 504) &&
        canRetry(String(status) as "502")
      ) {
        upRes.resume();
        release();
        current = undefined;
        retry();
        return;
      }
      if (finished) {
        upRes.destroy();
        release();
        return;
      }
      if (tries > 1 && status >= 500) addFlag(exchange, "URX");
      responded = true;
      exchange.upstreamTime = performance.now() - started;
      exchange.status = status;
      clearTimeout(overallTimer);
      const headers = downstreamResponseHeaders(upRes.rawHeaders);
      if (options.draining()) headers.push("connection", "close");
      res.writeHead(status, upRes.statusMessage, headers);
      upReq.setTimeout(options.streamIdleMs, () => {
        addFlag(exchange, "SI");
        upRes.destroy();
        res.destroy();
      });
      upRes.on("data", (chunk: Buffer) => {
        exchange.bytesSent += chunk.length;
        if (!res.write(chunk)) upRes.pause();
      });
      res.on("drain", () => upRes.resume());
      upRes.once("end", () => {
        release();
        const trailers = upRes.rawTrailers;
        if (trailers.length > 0) {
          const pairs: [string, string][] = [];
          for (let i = 0; i < trailers.length; i += 2) pairs.push([trailers[i]!, trailers[i + 1]!]);
          res.addTrailers(pairs);
        }
        res.end();
      });
      upRes.once("error", () => {
        release();
        addFlag(exchange, "UC");
        res.destroy();
      });
      upRes.once("close", () => {
        release();
        if (!upRes.complete && !res.writableEnded) {
          addFlag(exchange, "UC");
          res.destroy();
        }
      });
    });

    if (!options.hasBody) {
      upReq.end();
      return;
    }
    pumpBody(req, upReq, exchange, options.maxBodyBytes, () => {
      upReq.destroy();
      fail({
        status: 413,
        code: ProxyErrorCodes.BODY_TOO_LARGE,
        flag: "DPE",
        message: `Request body is over ${options.maxBodyBytes} bytes`,
      });
      res.shouldKeepAlive = false;
    });
  };

  attempt();
}

/** Streams the request body upstream with backpressure, counting bytes and enforcing the limit. */
function pumpBody(
  req: IncomingMessage,
  upReq: ClientRequest,
  exchange: Exchange,
  maxBytes: number,
  tooLarge: () => void,
): void {
  let over = false;
  req.on("data", (chunk: Buffer) => {
    if (over) return;
    exchange.bytesReceived += chunk.length;
    if (exchange.bytesReceived > maxBytes) {
      over = true;
      tooLarge();
      return;
    }
    if (!upReq.write(chunk)) req.pause();
  });
  upReq.on("drain", () => req.resume());
  req.once("end", () => {
    if (over) return;
    const trailers = req.rawTrailers;
    if (trailers.length > 0) {
      const pairs: [string, string][] = [];
      for (let i = 0; i < trailers.length; i += 2) pairs.push([trailers[i]!, trailers[i + 1]!]);
      upReq.addTrailers(pairs);
    }
    upReq.end();
  });
  req.once("error", () => upReq.destroy());
}

export function methodHasBodyByDefault(method: string): boolean {
  return bodyByDefault.has(method);
}
