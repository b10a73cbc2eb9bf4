import { Transform } from "node:stream";

/**
 * A bandwidth cap shared by every copy: a token bucket of `bytesPerSecond` with one second of
 * burst. `take(n)` resolves when `n` bytes may pass.
 *
 * @example
 * const throttle = new Throttle(10 * 1024 * 1024);
 * source.pipe(throttle.stream()).pipe(destination);
 */
export interface ThrottleOptions {
  /** Milliseconds, monotonic; performance.now by default. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class Throttle {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    bytesPerSecond: number,
    {
      now = () => performance.now(),
      sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }: ThrottleOptions = {},
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError("bytesPerSecond must be > 0");
    this.#rate = bytesPerSecond;
    this.#tokens = bytesPerSecond;
    this.#now = now;
    this.#sleep = sleep;
    this.#last = now();
  }

  take(bytes: number): Promise<void> {
    const turn = this.#queue.then(async () => {
      const now = this.#now();
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
      this.#last = now;
      this.#tokens -= bytes;
      if (this.#tokens < 0) {
        await this.#sleep((-this.#tokens / this.#rate) * 1000);
      }
    });
    this.#queue = turn;
    return turn;
  }

  /** A pass-through stream paced by this throttle. */
  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.take(chunk.length).then(() => callback(null, chunk), callback);
      },
    });
  }
}
