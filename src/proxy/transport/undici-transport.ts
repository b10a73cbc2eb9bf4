import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import type { Endpoint } from "../cluster/endpoint.ts";
import type { TryFailure } from "../upstream-errors.ts";
import type { TryCallbacks, TryHandle, TryRequest } from "./upstream-transport.ts";

const connectCodes = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function classify(error: NodeJS.ErrnoException): TryFailure {
  if (connectCodes.has(error.code ?? "")) return "connect-failure";
  if (error.code === "UND_ERR_HEADERS_TIMEOUT" || error.code === "UND_ERR_BODY_TIMEOUT")
    return "timeout";
  return "reset";
}

/** undici's header object as raw pairs (arrays, e.g. several Set-Cookie, become several pairs). */
export function flattenHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

/**
 * The fast transport: undici's dispatcher API on a keep-alive Pool per endpoint, with no
 * stream objects per request. Used for requests without a body or with a Content-Length body.
 */
export function sendWithUndici(
  endpoint: Endpoint,
  req: TryRequest,
  callbacks: TryCallbacks,
): TryHandle {
  let controller: Dispatcher.DispatchController | undefined;
  let done = false;
  let headSeen = false;
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (done) c.abort(new Error("aborted"));
    },
    onResponseStart(c, status, headers, message) {
      if (done) return;
      headSeen = true;
      if (!callbacks.onHead(status, message ?? "", flattenHeaders(headers))) {
        done = true;
        c.abort(new Error("discarded"));
      }
    },
    onResponseData(c, chunk) {
      if (!done && !callbacks.onData(chunk)) c.pause();
    },
    onResponseEnd(_c, trailers) {
      if (done) return;
      done = true;
      callbacks.onEnd(flattenHeaders(trailers));
    },
    onResponseError(_c, error: NodeJS.ErrnoException) {
      if (done) return;
      done = true;
      callbacks.onError(classify(error), error.code ?? error.message, headSeen);
    },
    onBodySent(chunk: Buffer) {
      callbacks.onBodySent(chunk.length);
    },
  };
  endpoint.pool(req.connectTimeoutMs).dispatch(
    {
      path: req.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body ?? null,
      headersTimeout: 0,
      bodyTimeout: req.bodyIdleMs,
      idempotent: false,
      blocking: true,
    },
    handler,
  );
  return {
    abort() {
      if (done) return;
      done = true;
      controller?.abort(new Error("aborted by the proxy"));
    },
    resume() {
      controller?.resume();
    },
  };
}
