import type { Socket } from "node:net";
import {
  type RequestErrorCode,
  type RequestHead,
  RequestParser,
} from "../transport/request-parser.ts";
import type { DownstreamRequest, DownstreamResponse } from "./downstream.ts";
import type { BodySource } from "./net-request.ts";
import { NetRequest } from "./net-request.ts";
import { NetResponse } from "./net-response.ts";

/** What a connection needs of its server (NetHttpServer). */
export interface ConnectionOwner {
  readonly maxHeaderBytes: number;
  readonly keepAliveTimeoutMs: number;
  readonly draining: boolean;
  /** A request to answer on this connection. */
  handle(req: DownstreamRequest, res: DownstreamResponse): void;
  /** The request cannot be parsed: answer it (status, code) and the connection closes. */
  refuse(socket: Socket, code: RequestErrorCode, status: number, message: string): void;
  /**
   * This request needs node:http (an upgrade, a chunked body, Expect): the socket, with `bytes`
   * (the request's head and what followed it) to be read again, goes to node:http.
   */
  handOff(socket: Socket, bytes: Buffer): void;
  /** The connection ended (closed, or handed off). */
  forget(connection: NetConnection): void;
}

/** Bytes kept for the parser while a request is answered, before the socket stops being read. */
const maxPipelinedBytes = 64 * 1024;

/**
 * One client connection on `node:net`: requests parsed by RequestParser one at a time, each
 * answered through a NetRequest and a NetResponse, the next one parsed once the response is
 * written (pipelining in order). Timeouts are the server's: `headStartedAt` and `idleSince`
 * are what its periodic check reads.
 */
export class NetConnection implements BodySource {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  readonly #parser: RequestParser;
  #request: NetRequest | undefined;
  #response: NetResponse | undefined;
  /** The head that goes to node:http (set in onHead, used by onUpgrade). */
  #handingOff: RequestHead | undefined;
  /** When the head being waited for began (the connection's start, or its first byte); 0: none. */
  headStartedAt: number;
  /** When the connection went idle after a response (keep-alive); 0: not idle. */
  idleSince = 0;
  /** Bytes fed while the parser waits for the current response. */
  #heldBytes = 0;
  /** The response is written but the request's body has not all arrived: it is read and dropped. */
  #dumping = false;
  #readingPaused = false;
  #closing = false;

  constructor(socket: Socket, owner: ConnectionOwner, now: number) {
    this.socket = socket;
    this.#owner = owner;
    this.headStartedAt = now;
    this.#parser = new RequestParser(this, { maxHeaderBytes: owner.maxHeaderBytes });
    socket.on("data", this.#onData);
    socket.on("close", this.#onClose);
    socket.on("error", this.#onError);
    socket.on("timeout", this.#onTimeout);
  }

  readonly #onData = (chunk: Buffer): void => this.#data(chunk);
  readonly #onClose = (): void => this.#closed();
  /** A reset client: the close that follows ends the exchange. */
  readonly #onError = (): void => {
    this.socket.destroy();
  };
  /**
   * The socket's timeout (node:http's server.timeout, streamIdleMs): a connection with a request
   * in flight is closed; an idle one is the keep-alive timeout's.
   */
  readonly #onTimeout = (): void => {
    if (this.#request !== undefined) this.socket.destroy();
  };

  /** No more requests are read (the connection is being answered and closed). */
  stopReading(): void {
    this.#closing = true;
  }

  /** Closes the connection now if no request is being answered (a drain). */
  closeIfIdle(): void {
    if (this.#request === undefined) this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    if (this.#closing) return;
    if (this.#request !== undefined && this.#parser.paused) {
      // Pipelined: kept until this response is written, within bounds.
      this.#heldBytes += chunk.length;
      if (this.#heldBytes > maxPipelinedBytes) this.pauseBody();
    } else if (this.#request === undefined && this.headStartedAt === 0) {
      this.headStartedAt = Date.now();
      this.idleSince = 0;
    }
    this.#parser.feed(chunk);
  }

  onHead(head: RequestHead): void {
    this.headStartedAt = 0;
    if (head.upgrade || head.expectContinue || head.framing.kind === "chunked") {
      this.#handingOff = head;
      this.#parser.detach();
      return;
    }
    const request = new NetRequest(head, this.socket, this);
    this.#request = request;
    const response = new NetResponse(this.socket, request, {
      keepAlive: head.keepAlive && !this.#owner.draining,
      http10: head.minorVersion === 0,
      keepAliveTimeoutMs: this.#owner.keepAliveTimeoutMs,
      onFinished: (keepAlive: boolean) => this.#finished(keepAlive),
    });
    this.#response = response;
    this.#owner.handle(request, response);
  }

  onBody(chunk: Buffer): void {
    if (!this.#dumping) this.#request?.push(chunk);
  }

  onEnd(rawTrailers: string[]): void {
    if (this.#dumping) {
      this.#dumping = false;
      this.#next();
      return;
    }
    this.#request?.pushEnd(rawTrailers);
  }

  onUpgrade(rest: Buffer): void {
    const head = this.#handingOff!;
    this.#handingOff = undefined;
    this.#closing = true;
    // Only this connection's listeners: the listener's own (its connection count, the
    // pressure gate's) stay on the socket for as long as it is open.
    this.socket.off("data", this.#onData);
    this.socket.off("close", this.#onClose);
    this.socket.off("error", this.#onError);
    this.socket.off("timeout", this.#onTimeout);
    this.#owner.forget(this);
    this.#owner.handOff(this.socket, Buffer.concat([serializeHead(head), rest]));
  }

  onError(code: RequestErrorCode, status: number, message: string): void {
    if (this.#request !== undefined) {
      // Only bytes after a request that closes the connection: the response is finishing.
      this.#closing = true;
      return;
    }
    this.#closing = true;
    this.#owner.refuse(this.socket, code, status, message);
  }

  pauseBody(): void {
    if (this.#readingPaused) return;
    this.#readingPaused = true;
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.#readingPaused) return;
    this.#readingPaused = false;
    this.socket.resume();
  }

  /** The response has been handed to the socket. */
  #finished(keepAlive: boolean): void {
    if (!keepAlive || this.#closing || this.#owner.draining) {
      this.#closing = true;
      const socket = this.socket;
      socket.end();
      if (socket.writableFinished) socket.destroy();
      else socket.once("finish", () => socket.destroy());
      return;
    }
    const request = this.#request!;
    if (!request.complete) {
      // node:http's dump: the unread rest of the body is read and dropped.
      request.discard();
      this.#dumping = true;
      this.resumeBody();
      return;
    }
    this.#next();
  }

  /** Ready for the next request: any pipelined one is parsed now. */
  #next(): void {
    this.#request = undefined;
    this.#response = undefined;
    this.#heldBytes = 0;
    this.idleSince = Date.now();
    this.resumeBody();
    this.#parser.resume();
    // Part of a pipelined head is here: its headers timeout runs.
    if (this.#request === undefined && this.#parser.inMessage) {
      this.headStartedAt = this.idleSince;
      this.idleSince = 0;
    }
  }

  #closed(): void {
    this.#closing = true;
    this.#owner.forget(this);
    this.#response?.socketClosed();
  }
}

/** A parsed head as bytes again, for node:http to read (the values were checked already). */
function serializeHead(head: RequestHead): Buffer {
  let text = `${head.method} ${head.target} HTTP/1.${head.minorVersion}\r\n`;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return Buffer.from(`${text}\r\n`, "latin1");
}
