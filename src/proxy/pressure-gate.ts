import type { Server, Socket } from "node:net";
import type { MemoryPressureSignal } from "../runtime/memory-pressure.ts";

/** Connections let go at once when the listener has nothing in flight but pressure stays on. */
const releaseWhenIdle = 16;
/** How often held connections are looked at while pressure stays on. */
const idleCheckMs = 250;

/**
 * Holds new client connections while memory pressure is on: they are accepted paused (the
 * server's `pauseOnConnect`) and not read, so their requests wait in the kernel's socket
 * buffers instead of the heap. They are read
 * when pressure ends — or, a few at a time, when the listener has no request in flight, so a
 * process whose RSS does not fall still serves. A connection held longer than the
 * listener's headers timeout is answered 408 like any slow client.
 *
 * @example
 * const gate = new PressureGate(ctx.memory.pressure, server, () => inFlight);
 * server.on("connection", (socket) => gate.admit(socket));
 */
export class PressureGate {
  readonly #pressure: MemoryPressureSignal;
  readonly #held = new Set<Socket>();
  readonly #stopWatching: () => void;
  readonly #inFlight: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(pressure: MemoryPressureSignal, server: Server, inFlight: () => number) {
    this.#pressure = pressure;
    this.#inFlight = inFlight;
    const pausable = server as Server & { pauseOnConnect: boolean };
    pausable.pauseOnConnect = pressure.active;
    this.#stopWatching = pressure.onChange((active) => {
      pausable.pauseOnConnect = active;
      if (!active) this.#release(Number.POSITIVE_INFINITY);
    });
  }

  /** Connections waiting to be read. */
  get held(): number {
    return this.#held.size;
  }

  /** Called for every new connection: held while pressure is on. */
  admit(socket: Socket): void {
    if (!this.#pressure.active) return;
    socket.pause();
    this.#held.add(socket);
    socket.once("close", () => this.#held.delete(socket));
    this.#timer ??= setInterval(() => {
      if (this.#inFlight() === 0) this.idle();
    }, idleCheckMs).unref();
  }

  /** The listener has no request in flight: let a few held connections in. */
  idle(): void {
    if (this.#held.size > 0) this.#release(releaseWhenIdle);
  }

  /** Reads every held connection (drain) and stops watching the pressure. */
  close(): void {
    this.#stopWatching();
    this.#release(Number.POSITIVE_INFINITY);
  }

  #release(count: number): void {
    for (const socket of this.#held) {
      if (count-- <= 0) break;
      this.#held.delete(socket);
      socket.resume();
    }
    if (this.#held.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
