import { Transform } from "node:stream";

/**
 * A bandwidth cap shared by every copy: a token bucket of `bytesPerSecond` with one second of
 * burst. `take(n)` resolves when `n` bytes may pass.
 *
 * @example
 * const throttle = new Throttle(10 * 1024 * 1024);
 * source.pipe(throttle.stream()).pipe(destination);
 */
export class Throttle {
  readonly #rate: number;
  #tokens: number;
  #last = performance.now();
  #queue: Promise<void> = Promise.resolve();

  constructor(bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError("bytesPerSecond must be > 0");
    this.#rate = bytesPerSecond;
    this.#tokens = bytesPerSecond;
  }

  take(bytes: number): Promise<void> {
    const turn = this.#queue.then(async () => {
      const now = performance.now();
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
      this.#last = now;
      this.#tokens -= bytes;
      if (this.#tokens < 0) {
        await new Promise((resolve) => setTimeout(resolve, (-this.#tokens / this.#rate) * 1000));
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
