import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { RequestHead } from "../transport/request-parser.ts";
import type { DownstreamRequest } from "./downstream.ts";
import { incomingHeaders } from "./incoming-headers.ts";

/** What a NetRequest asks of its connection: stop or go on reading the socket for its body. */
export interface BodySource {
  pauseBody(): void;
  resumeBody(): void;
}

/**
 * A request read on `node:net` (see NetConnection). Its body is read as a Readable's: `data`
 * events once a `data` listener is attached or `resume()` is called (on the next tick, so an
 * `end` listener attached just after is not missed), none while paused. Chunks that arrive
 * while nobody reads are queued and the socket stops being read, so the queue holds at most
 * one read.
 */
export class NetRequest extends EventEmitter implements DownstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  rawTrailers: string[] = [];
  readonly socket: Socket;
  /** The whole body has been read from the socket (emitted or not). */
  complete = false;
  readonly #source: BodySource;
  #headers: IncomingHttpHeaders | undefined;
  #queue: Buffer[] | undefined;
  #flowing = false;
  #paused = false;
  #endEmitted = false;
  #flushScheduled = false;

  constructor(head: RequestHead, socket: Socket, source: BodySource) {
    super();
    this.method = head.method;
    this.url = head.target;
    this.httpVersion = head.minorVersion === 1 ? "1.1" : "1.0";
    this.rawHeaders = head.rawHeaders;
    this.socket = socket;
    this.#source = source;
  }

  /** Built on first use, as node:http builds them. */
  get headers(): IncomingHttpHeaders {
    this.#headers ??= incomingHeaders(this.rawHeaders);
    return this.#headers;
  }

  override on(event: string | symbol, listener: Parameters<EventEmitter["on"]>[1]): this {
    super.on(event, listener);
    this.#listened(event);
    return this;
  }

  override once(event: string | symbol, listener: Parameters<EventEmitter["on"]>[1]): this {
    super.once(event, listener);
    this.#listened(event);
    return this;
  }

  /** A `data` listener starts the body flowing, as on a Readable (unless paused). */
  #listened(event: string | symbol): void {
    if (event !== "data" || this.#paused) return;
    this.#flowing = true;
    this.#scheduleFlush();
  }

  pause(): this {
    this.#paused = true;
    this.#flowing = false;
    this.#source.pauseBody();
    return this;
  }

  resume(): this {
    this.#paused = false;
    this.#flowing = true;
    this.#scheduleFlush();
    return this;
  }

  isPaused(): boolean {
    return this.#paused;
  }

  /** A part of the body, read from the socket (the connection's; the socket's own buffer). */
  push(chunk: Buffer): void {
    if (this.#flowing && this.#queue === undefined) {
      this.emit("data", chunk);
      return;
    }
    if (this.#queue === undefined) this.#queue = [chunk];
    else this.#queue.push(chunk);
    this.#source.pauseBody();
  }

  /** The body is complete. */
  pushEnd(rawTrailers: string[]): void {
    this.complete = true;
    this.rawTrailers = rawTrailers;
    if (this.#flowing && this.#queue === undefined) this.#emitEnd();
  }

  /** Nobody will read the rest of the body (the response is over): what is queued is dropped. */
  discard(): void {
    this.#queue = undefined;
    this.#flowing = false;
    this.#paused = true;
    this.removeAllListeners("data");
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (!this.#flowing) return;
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue !== undefined) {
      for (let i = 0; i < queue.length; i++) {
        this.emit("data", queue[i]);
        if (!this.#flowing) {
          // Paused again while emitting: the rest waits.
          const rest = queue.slice(i + 1);
          if (rest.length > 0) this.#queue = rest;
          return;
        }
      }
    }
    if (this.complete) this.#emitEnd();
    else this.#source.resumeBody();
  }

  #emitEnd(): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    this.emit("end");
  }
}
