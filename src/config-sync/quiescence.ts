import type { Clock, TimerHandle } from "../runtime/clock.ts";

/**
 * consul-template's `wait`: the first change starts a `minMs` timer and sets a deadline `maxMs`
 * away; each further change restarts the timer, but never past the deadline. A burst of changes
 * thus fires once, and a source that never stops changing still fires every `maxMs`.
 *
 * @example
 * const wait = new Quiescence({ minMs: 200, maxMs: 800, clock }, () => build());
 * source.on("change", () => wait.poke());
 */
export class Quiescence {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #clock: Clock;
  readonly #fire: () => void;
  #timer: TimerHandle | undefined;
  #deadline = 0;

  constructor(options: { minMs: number; maxMs: number; clock: Clock }, fire: () => void) {
    this.#minMs = options.minMs;
    this.#maxMs = Math.max(options.maxMs, options.minMs);
    this.#clock = options.clock;
    this.#fire = fire;
  }

  /** A change happened. */
  poke(): void {
    const now = this.#clock.now();
    if (this.#timer === undefined) this.#deadline = now + this.#maxMs;
    else this.#timer.cancel();
    const delay = Math.max(0, Math.min(this.#minMs, this.#deadline - now));
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#fire();
    }, delay);
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
