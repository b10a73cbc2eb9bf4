/**
 * A token bucket refilled continuously at `ratePerSecond` up to `burst` tokens.
 *
 * @example
 * const bucket = new TokenBucket(10, 10, performance.now());
 * bucket.take(performance.now()); // 0 when a token was taken, else seconds until one is free
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = nowMs;
  }

  /** Takes one token: returns 0 on success, else the seconds until a token will be available. */
  take(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.#updatedAt) / 1000;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    this.#updatedAt = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return (1 - this.#tokens) / this.#rate;
  }

  /** Whether the bucket is full at `nowMs` (a full per-client bucket can be forgotten). */
  isFull(nowMs: number): boolean {
    return this.#tokens + ((nowMs - this.#updatedAt) / 1000) * this.#rate >= this.#burst;
  }
}
