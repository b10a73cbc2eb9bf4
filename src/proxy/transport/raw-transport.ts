import type { Endpoint } from "../cluster/endpoint.ts";
import type { TryFailure } from "../upstream-errors.ts";
import { sendWithUndici } from "./undici-transport.ts";
import type { TryCallbacks, TryHandle, TryRequest } from "./upstream-transport.ts";

const connectFailures =
  /^(?:ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT)/;

function classify(message: string): TryFailure {
  if (connectFailures.test(message)) return "connect-failure";
  return message.startsWith("timeout") ? "timeout" : "reset";
}

/**
 * The hot path: requests without a body (or with a small buffered one), written in one go on a
 * pooled keep-alive socket,
 * the response parsed by ResponseParser. Falls back to undici when the pool is at its limit.
 */
export function sendRaw(endpoint: Endpoint, req: TryRequest, callbacks: TryCallbacks): TryHandle {
  if (req.body !== undefined && !Buffer.isBuffer(req.body))
    return sendWithUndici(endpoint, req, callbacks);
  const pool = endpoint.rawPool();
  const connection = pool.acquire();
  if (!connection) return sendWithUndici(endpoint, req, callbacks);
  const { socket, parser } = connection;
  let done = false;
  let headSeen = false;
  let connectTimer: NodeJS.Timeout | undefined;
  const close = () => {
    connection.handlers = undefined;
    parser.abort();
    socket.destroy();
  };
  const fail = (message: string) => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    close();
    callbacks.onError(classify(message), message, headSeen);
  };
  connection.handlers = {
    onInfo(status, rawHeaders) {
      if (!done) callbacks.onInfo(status, rawHeaders);
    },
    onHead(status, message, rawHeaders) {
      if (done) return;
      headSeen = true;
      let accepted: boolean;
      try {
        accepted = callbacks.onHead(status, message, rawHeaders);
      } catch (error) {
        // node:http refused to send the head on (e.g. an invalid header value).
        headSeen = false;
        fail(`invalid response head: ${(error as Error).message}`);
        return;
      }
      if (!accepted) {
        done = true;
        close();
        return;
      }
      socket.setTimeout(req.bodyIdleMs);
    },
    onBody(chunk) {
      if (!done && !callbacks.onData(chunk)) socket.pause();
    },
    onEnd(trailers, keepAlive) {
      if (done) return;
      done = true;
      socket.setTimeout(0);
      if (socket.isPaused()) socket.resume();
      if (keepAlive) pool.release(connection);
      else close();
      callbacks.onEnd(trailers);
    },
    onError: fail,
  };
  if (socket.connecting) {
    connectTimer = setTimeout(() => fail("CONNECT_TIMEOUT"), req.connectTimeoutMs);
    socket.once("connect", () => clearTimeout(connectTimer));
  }
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  parser.start(req.method === "HEAD");
  if (req.body && req.body.length > 0) {
    socket.cork();
    socket.write(`${head}\r\n`, "latin1");
    socket.write(req.body);
    socket.uncork();
  } else socket.write(`${head}\r\n`, "latin1");
  return {
    abort() {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      close();
    },
    resume() {
      socket.resume();
    },
  };
}
