import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gunzipSync } from "node:zlib";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The body, gunzipped when it came with Content-Encoding: gzip. */
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (a slow receiver). */
  delayMs?: number;
}

/** Decides the reply to a request; return undefined for the default (200, or `onAccepted`). */
export type Responder = (request: ReceivedRequest) => Reply | undefined;

/**
 * A real HTTP receiver on 127.0.0.1 for sink tests: records requests (only those it answered
 * with 2xx count as accepted), can fail on demand (`failNext`), be slow, or go down and come back
 * on the same port.
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly accepted: ReceivedRequest[] = [];
  port = 0;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #failures: Reply[] = [];
  #responder: Responder | undefined;
  #gate: Promise<void> | undefined;

  /** Holds every reply until the returned function is called (the receiver has it, not yet acked). */
  hold(): () => void {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#gate = promise;
    return () => {
      this.#gate = undefined;
      resolve();
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The next `count` requests get `reply` (after which normal service resumes). */
  failNext(count: number, reply: Reply): void {
    for (let i = 0; i < count; i++) this.#failures.push(reply);
  }

  respondWith(responder: Responder | undefined): void {
    this.#responder = responder;
  }

  /** Stops listening and cuts every open connection (the receiver is down). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let raw = Buffer.concat(chunks);
    if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
    const request: ReceivedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: raw.toString("utf8"),
    };
    this.requests.push(request);
    let reply = this.#failures.shift() ?? this.#responder?.(request);
    reply ??= { status: 200, body: "{}" };
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (this.#gate) await this.#gate;
    if (res.destroyed) return;
    if (reply.status >= 200 && reply.status < 300) this.accepted.push(request);
    res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    res.end(reply.body ?? "");
  }
}
