import type { Server, Socket } from "node:net";
import type { MemoryPressureSignal } from "../runtime/memory-pressure.ts";

/** Connections let go at once when the listener has nothing in flight but pressure stays on. */
const releaseWhenIdle = 16;
/** How often held connections are looked at while pressure stays on. */
const idleCheckMs = 250;

export interface PressureGateOptions {
  pressure: MemoryPressureSignal;
  /** Connections read at once (the memory budget's); more wait until one closes. */
  connections: number;
}

/**
 * Makes new client connections wait rather than allocate: while memory pressure is on, or
 * while `connections` are already being read, a new one is accepted paused (the server's
 * `pauseOnConnect`) and not read, so its requests wait in the kernel's socket buffers instead
 * of the heap. Held connections are read when pressure ends and as others close — or, a few
 * at a time, when the listener has no request in flight, so a process whose memory does not
 * fall still serves. A connection held longer than the listener's headers timeout is answered
 * 408 like any slow client. Plain listeners only: a TLS socket reads its raw socket itself.
 *
 * @example
 * const gate = new PressureGate({ pressure, connections: 1024 }, server, () => inFlight);
 * server.on("connection", (socket) => gate.admit(socket));
 */
export class PressureGate {
  readonly #options: PressureGateOptions;
  readonly #server: Server & { pauseOnConnect: boolean };
  readonly #held = new Set<Socket>();
  readonly #stopWatching: () => void;
  readonly #inFlight: () => number;
  #reading = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PressureGateOptions, server: Server, inFlight: () => number) {
    this.#options = options;
    this.#server = server as Server & { pauseOnConnect: boolean };
    this.#inFlight = inFlight;
    this.#update();
    this.#stopWatching = options.pressure.onChange((active) => {
      this.#update();
      if (!active) this.#release(Number.POSITIVE_INFINITY, false);
    });
  }

  /** Connections waiting to be read. */
  get held(): number {
    return this.#held.size;
  }

  /** Called for every new connection: read now, or held. */
  admit(socket: Socket): void {
    if (!this.#options.pressure.active && this.#reading < this.#options.connections) {
      this.#read(socket);
      return;
    }
    socket.pause();
    this.#held.add(socket);
    socket.once("close", () => this.#held.delete(socket));
    this.#timer ??= setInterval(() => {
      if (this.#inFlight() === 0) this.idle();
    }, idleCheckMs).unref();
    this.#update();
  }

  /** The listener has no request in flight: let a few held connections in, over the count too. */
  idle(): void {
    if (this.#held.size > 0) this.#release(releaseWhenIdle, true);
  }

  /** Reads every held connection (drain) and stops watching the pressure. */
  close(): void {
    this.#closed = true;
    this.#stopWatching();
    this.#release(Number.POSITIVE_INFINITY, true);
  }

  #read(socket: Socket): void {
    this.#reading++;
    socket.once("close", () => {
      this.#reading--;
      if (!this.#options.pressure.active) this.#release(1, false);
      else this.#update();
    });
    this.#update();
  }

  /** Reads up to `count` held connections, within the budget's count unless `overCount`. */
  #release(count: number, overCount: boolean): void {
    for (const socket of this.#held) {
      if (count <= 0 || (!overCount && this.#reading >= this.#options.connections)) break;
      count--;
      this.#held.delete(socket);
      this.#read(socket);
      socket.resume();
    }
    if (this.#held.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    this.#update();
  }

  /** New connections arrive paused while they would be held. */
  #update(): void {
    this.#server.pauseOnConnect =
      !this.#closed &&
      (this.#options.pressure.active || this.#reading >= this.#options.connections);
  }
}
