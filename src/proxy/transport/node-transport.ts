import type { IncomingMessage } from "node:http";
import { http, https } from "../../runtime/builtins.ts";
import type { Endpoint } from "../cluster/endpoint.ts";
import { forwardedTrailers } from "../hop-headers.ts";
import { classifyError } from "../upstream-errors.ts";
import { nodeResponseFraming } from "./node-response-framing.ts";
import type { TryCallbacks, TryHandle, TryRequest } from "./upstream-transport.ts";

/**
 * The node:http transport: used for chunked request bodies (so their trailers pass) and
 * `Expect: 100-continue` (so the upstream's 100 is relayed).
 */
export function sendWithNodeHttp(
  endpoint: Endpoint,
  req: TryRequest,
  callbacks: TryCallbacks,
): TryHandle {
  let done = false;
  let headSeen = false;
  let upRes: IncomingMessage | undefined;
  const upReq = (endpoint.tls ? https : http).request({
    ...endpoint.tls,
    host: endpoint.host,
    port: endpoint.port,
    method: req.method,
    path: req.path,
    headers: req.headers,
    agent: endpoint.agent,
  });
  const fail = (error: NodeJS.ErrnoException) => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    callbacks.onError(classifyError(error), error.code ?? error.message, headSeen);
  };
  let connectTimer: NodeJS.Timeout | undefined;
  upReq.once("socket", (socket) => {
    if (!socket.connecting) return;
    connectTimer = setTimeout(() => {
      const error = new Error(
        `connect timeout after ${req.connectTimeoutMs} ms`,
      ) as NodeJS.ErrnoException;
      error.code = "CONNECT_TIMEOUT";
      upReq.destroy(error);
    }, req.connectTimeoutMs);
    socket.once(endpoint.tls ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
  });
  upReq.on("error", fail);
  upReq.on("continue", () => {
    if (!done) callbacks.onContinue();
  });
  upReq.on("information", (info: { statusCode: number; rawHeaders: string[] }) => {
    if (!done && info.statusCode !== 100) callbacks.onInfo(info.statusCode, info.rawHeaders);
  });
  upReq.once("response", (res: IncomingMessage) => {
    clearTimeout(connectTimer);
    upRes = res;
    if (done) return void res.destroy();
    const framing = nodeResponseFraming(res, req.method === "HEAD");
    if (typeof framing === "string") {
      // Never passed on, and the connection is not reused.
      done = true;
      clearTimeout(connectTimer);
      res.destroy();
      upReq.destroy();
      callbacks.onError("protocol", framing, false);
      return;
    }
    headSeen = true;
    if (
      !callbacks.onHead(
        res.statusCode!,
        res.statusMessage ?? "",
        res.rawHeaders,
        framing.contentLength,
      )
    ) {
      done = true;
      res.resume();
      return;
    }
    upReq.setTimeout(req.bodyIdleMs, () => {
      const error = new Error("stream idle timeout") as NodeJS.ErrnoException;
      error.code = "STREAM_IDLE";
      upReq.destroy(error);
    });
    res.on("data", (chunk: Buffer) => {
      if (!done && !callbacks.onData(chunk, false)) res.pause();
    });
    res.once("end", () => {
      if (done) return;
      done = true;
      callbacks.onEnd(res.rawTrailers);
    });
    res.once("error", fail);
    res.once("close", () => {
      if (!res.complete)
        fail(Object.assign(new Error("upstream closed mid-response"), { code: "ECONNRESET" }));
    });
  });

  const body = req.body;
  if (!body) upReq.end();
  else if (Buffer.isBuffer(body)) upReq.end(body);
  else {
    body.on("data", (chunk: Buffer) => {
      if (done) return;
      callbacks.onBodySent(chunk.length);
      if (!upReq.write(chunk)) body.pause();
    });
    upReq.on("drain", () => body.resume());
    body.once("end", () => {
      if (done) return;
      const trailers = forwardedTrailers(body.rawTrailers);
      if (trailers.length > 0) upReq.addTrailers(trailers);
      upReq.end();
    });
  }

  return {
    abort() {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      upReq.destroy();
      upRes?.destroy();
    },
    resume() {
      upRes?.resume();
    },
  };
}
