export interface FailureLimit {
  /** Failed attempts a client may make in a burst… */
  burst: number;
  /** …refilled at this rate. */
  perMinute: number;
}

/**
 * Failed authentication attempts per client address (a token bucket each, in an LRU): once a
 * client has used its burst, its requests are answered 429 without checking the credential,
 * until the bucket refills. Successful attempts cost nothing.
 *
 * @example
 * const limiter = new FailureLimiter({ burst: 10, perMinute: 10 }, () => performance.now());
 * if (limiter.wait(client) > 0) return tooManyFailures;
 * if (!ok) limiter.fail(client);
 */
export class FailureLimiter {
  readonly #burst: number;
  readonly #ratePerMs: number;
  readonly #now: () => number;
  readonly #maxClients: number;
  /** Least recently failed first. */
  readonly #clients = new Map<string, { tokens: number; at: number }>();

  constructor(limit: FailureLimit, now: () => number, maxClients = 10_000) {
    this.#burst = limit.burst;
    this.#ratePerMs = limit.perMinute / 60_000;
    this.#now = now;
    this.#maxClients = maxClients;
  }

  #tokens(client: string, now: number): number {
    const entry = this.#clients.get(client);
    if (!entry) return this.#burst;
    return Math.min(this.#burst, entry.tokens + (now - entry.at) * this.#ratePerMs);
  }

  /** 0 when the client may try; else the seconds until it may. */
  wait(client: string): number {
    const tokens = this.#tokens(client, this.#now());
    return tokens >= 1 ? 0 : (1 - tokens) / this.#ratePerMs / 1000;
  }

  /** Counts one failed attempt of the client. */
  fail(client: string): void {
    const now = this.#now();
    const tokens = this.#tokens(client, now) - 1;
    this.#clients.delete(client);
    if (this.#clients.size >= this.#maxClients)
      this.#clients.delete(this.#clients.keys().next().value!);
    this.#clients.set(client, { tokens, at: now });
  }
}
