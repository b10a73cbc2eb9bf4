import type { IncomingMessage } from "node:http";
import type { Endpoint } from "../cluster/endpoint.ts";
import type { TryFailure } from "../upstream-errors.ts";
import type { RawConnection, RawPool } from "./raw-pool.ts";
import type { TryCallbacks, TryHandle, TryRequest } from "./upstream-transport.ts";

const connectFailures =
  /^(?:ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT)/;

function classify(message: string): TryFailure {
  if (connectFailures.test(message)) return "connect-failure";
  return message.startsWith("timeout") ? "timeout" : "reset";
}

/**
 * The hot path: the request head written as one string on a pooled keep-alive socket, a
 * Content-Length body (buffered, or streamed with backpressure) after it, and the response
 * parsed by ResponseParser. When the pool is at maxConnections, the try waits for a connection.
 */
export function sendRaw(endpoint: Endpoint, req: TryRequest, callbacks: TryCallbacks): TryHandle {
  const pool = endpoint.rawPool();
  const connection = pool.acquire();
  if (connection) return sendOn(pool, connection, req, callbacks);
  // At the pool's limit: wait for a connection released (or one opened when another closes).
  let handle: TryHandle | undefined;
  let aborted = false;
  const withdraw = pool.wait((given) => {
    if (aborted) {
      if (given) pool.release(given);
      return;
    }
    if (given) handle = sendOn(pool, given, req, callbacks);
    else callbacks.onError("reset", "connection pool closed", false);
  });
  return {
    abort() {
      aborted = true;
      withdraw();
      handle?.abort();
    },
    resume() {
      handle?.resume();
    },
  };
}

/** Sends the try on `connection`, which the pool gave it. */
function sendOn(
  pool: RawPool,
  connection: RawConnection,
  req: TryRequest,
  callbacks: TryCallbacks,
): TryHandle {
  const { socket, parser } = connection;
  let done = false;
  let headSeen = false;
  /** The head is in and its body has not ended with the same chunk: watch the body's idleness. */
  let watchBody = false;
  /** The body's last chunk, held back to go out with the end (one write instead of two). */
  let lastChunk: Buffer | undefined;
  let bodySent = req.body === undefined || Buffer.isBuffer(req.body);
  let connectTimer: NodeJS.Timeout | undefined;
  const stream = Buffer.isBuffer(req.body) ? undefined : req.body;

  const onBodyData = (chunk: Buffer) => {
    if (done) return;
    callbacks.onBodySent(chunk.length);
    if (!socket.write(chunk)) {
      stream!.pause();
      socket.once("drain", () => stream!.resume());
    }
  };
  const onBodyEnd = () => {
    bodySent = true;
  };
  const detachBody = (body: IncomingMessage | undefined) => {
    if (!body) return;
    body.off("data", onBodyData);
    body.off("end", onBodyEnd);
    if (body.isPaused()) body.resume();
  };
  const close = () => {
    connection.handlers = undefined;
    parser.abort();
    detachBody(stream);
    socket.destroy();
  };
  const fail = (message: string, failure: TryFailure = classify(message)) => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    close();
    callbacks.onError(failure, message, headSeen);
  };
  connection.handlers = {
    onInfo(status, rawHeaders) {
      if (!done) callbacks.onInfo(status, rawHeaders);
    },
    onHead(status, message, rawHeaders, contentLength) {
      if (done) return;
      headSeen = true;
      let accepted: boolean;
      try {
        accepted = callbacks.onHead(status, message, rawHeaders, contentLength);
      } catch (error) {
        // node:http refused to send the head on (e.g. an invalid header value).
        headSeen = false;
        fail(`invalid response head: ${(error as Error).message}`, "protocol");
        return;
      }
      if (!accepted) {
        done = true;
        close();
        return;
      }
      watchBody = true;
    },
    onBody(chunk) {
      if (done) return;
      if (parser.lastChunk) lastChunk = chunk;
      else if (!callbacks.onData(chunk)) socket.pause();
    },
    onEnd(trailers, keepAlive) {
      if (done) return;
      done = true;
      if (socket.isPaused()) socket.resume();
      // An answer before the whole request body was sent leaves the connection unusable.
      if (keepAlive && bodySent) {
        detachBody(stream);
        pool.release(connection);
      } else close();
      callbacks.onEnd(trailers, lastChunk);
    },
    onError: (message) => fail(message, "protocol"),
    onSocketError: (message) => fail(message),
    afterFeed() {
      if (!watchBody || done) return;
      watchBody = false;
      connection.watchBody(req.bodyIdleMs);
    },
  };
  if (socket.connecting) {
    connectTimer = setTimeout(() => fail("CONNECT_TIMEOUT"), req.connectTimeoutMs);
    // Over TLS the connection is up once the handshake is done.
    socket.once("encrypted" in socket ? "secureConnect" : "connect", () =>
      clearTimeout(connectTimer),
    );
  }
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  parser.start(req.method === "HEAD");
  if (Buffer.isBuffer(req.body) && req.body.length > 0) {
    socket.cork();
    socket.write(`${head}\r\n`, "latin1");
    socket.write(req.body);
    socket.uncork();
  } else socket.write(`${head}\r\n`, "latin1");
  if (stream) {
    stream.on("data", onBodyData);
    stream.once("end", onBodyEnd);
  }
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
