import type { Endpoint } from "../cluster/endpoint.ts";
import type { DownstreamRequest } from "../downstream/downstream.ts";
import type { TryFailure } from "../upstream-errors.ts";
import type { ConnectionHandlers, RawConnection, RawPool } from "./raw-pool.ts";
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
  const raw = new RawTry(pool, connection, req, callbacks);
  raw.send();
  return raw;
}

/**
 * One try on one pooled connection. One object is the connection's handlers and the try's
 * handle both, with its methods on the prototype: the per-request closures and handler
 * objects it replaces were the largest allocation of the request path (~2 KB at 13 B).
 */
class RawTry implements ConnectionHandlers, TryHandle {
  readonly #pool: RawPool;
  readonly #connection: RawConnection;
  readonly #req: TryRequest;
  readonly #callbacks: TryCallbacks;
  /** The streamed body; undefined when buffered or none. */
  readonly #stream: DownstreamRequest | undefined;
  #done = false;
  #headSeen = false;
  /** The head is in and its body has not ended with the same chunk: watch the body's idleness. */
  #watchBody = false;
  /** The body's last chunk, held back to go out with the end (one write instead of two). */
  #lastChunk: Buffer | undefined;
  #bodySent: boolean;
  #connectTimer: NodeJS.Timeout | undefined;
  #onBodyData: ((chunk: Buffer) => void) | undefined;
  #onBodyEnd: (() => void) | undefined;

  constructor(pool: RawPool, connection: RawConnection, req: TryRequest, callbacks: TryCallbacks) {
    this.#pool = pool;
    this.#connection = connection;
    this.#req = req;
    this.#callbacks = callbacks;
    this.#bodySent = req.body === undefined || Buffer.isBuffer(req.body);
    this.#stream = Buffer.isBuffer(req.body) ? undefined : req.body;
  }

  send(): void {
    const { socket, parser } = this.#connection;
    const req = this.#req;
    this.#connection.handlers = this;
    if (socket.connecting) {
      this.#connectTimer = setTimeout(() => this.#fail("CONNECT_TIMEOUT"), req.connectTimeoutMs);
      // Over TLS the connection is up once the handshake is done.
      socket.once("encrypted" in socket ? "secureConnect" : "connect", () =>
        clearTimeout(this.#connectTimer),
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
    const stream = this.#stream;
    if (stream) {
      this.#onBodyData = (chunk) => this.#bodyData(chunk);
      this.#onBodyEnd = () => {
        this.#bodySent = true;
      };
      stream.on("data", this.#onBodyData);
      stream.once("end", this.#onBodyEnd);
    }
  }

  #bodyData(chunk: Buffer): void {
    if (this.#done) return;
    this.#callbacks.onBodySent(chunk.length);
    const { socket } = this.#connection;
    if (!socket.write(chunk)) {
      const stream = this.#stream!;
      stream.pause();
      socket.once("drain", () => stream.resume());
    }
  }

  #detachBody(): void {
    const body = this.#stream;
    if (!body) return;
    body.off("data", this.#onBodyData!);
    body.off("end", this.#onBodyEnd!);
    if (body.isPaused()) body.resume();
  }

  #close(): void {
    this.#connection.handlers = undefined;
    this.#connection.parser.abort();
    this.#detachBody();
    this.#connection.socket.destroy();
  }

  #fail(message: string, failure: TryFailure = classify(message)): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#connectTimer);
    this.#close();
    this.#callbacks.onError(failure, message, this.#headSeen);
  }

  onInfo(status: number, rawHeaders: string[]): void {
    if (!this.#done) this.#callbacks.onInfo(status, rawHeaders);
  }

  onHead(status: number, message: string, rawHeaders: string[], contentLength?: number): void {
    if (this.#done) return;
    this.#headSeen = true;
    let accepted: boolean;
    try {
      accepted = this.#callbacks.onHead(status, message, rawHeaders, contentLength);
    } catch (error) {
      // node:http refused to send the head on (e.g. an invalid header value).
      this.#headSeen = false;
      this.#fail(`invalid response head: ${(error as Error).message}`, "protocol");
      return;
    }
    if (!accepted) {
      this.#done = true;
      this.#close();
      return;
    }
    this.#watchBody = true;
  }

  onBody(chunk: Buffer): void {
    if (this.#done) return;
    const { parser, socket } = this.#connection;
    // The last chunk is passed to onEnd within the same read; the receiver of any other
    // copies it out of a shared read buffer if it keeps it.
    if (parser.lastChunk) this.#lastChunk = chunk;
    else if (!this.#callbacks.onData(chunk, this.#connection.sharedReads)) socket.pause();
  }

  onEnd(trailers: string[], keepAlive: boolean): void {
    if (this.#done) return;
    this.#done = true;
    const connection = this.#connection;
    if (connection.socket.isPaused()) connection.socket.resume();
    // An answer before the whole request body was sent leaves the connection unusable.
    if (keepAlive && this.#bodySent) {
      this.#detachBody();
      this.#pool.release(connection);
    } else this.#close();
    this.#callbacks.onEnd(trailers, this.#lastChunk);
  }

  onError(message: string): void {
    this.#fail(message, "protocol");
  }

  onSocketError(message: string): void {
    this.#fail(message);
  }

  afterFeed(): void {
    if (!this.#watchBody || this.#done) return;
    this.#watchBody = false;
    this.#connection.watchBody(this.#req.bodyIdleMs);
  }

  abort(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#connectTimer);
    this.#close();
  }

  resume(): void {
    this.#connection.socket.resume();
  }
}
