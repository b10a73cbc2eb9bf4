import { TokenBucket } from "./token-bucket.ts";

export interface BucketConfig {
  requestsPerSecond: number;
  burst?: number | undefined;
}

export interface RateLimiterOptions {
  global?: BucketConfig | undefined;
  perClient?: BucketConfig | undefined;
  /**
   * Per-client buckets kept at most (default 10 000); past it the least recently used is
   * forgotten, so a flood of addresses cannot grow memory without limit.
   */
  maxClients?: number;
  now?: () => number;
}

function newBucket({ requestsPerSecond, burst }: BucketConfig, now: number): TokenBucket {
  return new TokenBucket(
    requestsPerSecond,
    burst ?? Math.max(1, Math.ceil(requestsPerSecond)),
    now,
  );
}

/**
 * Local rate limits: a global token bucket and one per client address, kept in an LRU.
 * `check` returns 0 to let the request through, else the seconds the client should wait.
 *
 * @example
 * const limiter = new RateLimiter({ perClient: { requestsPerSecond: 10 } });
 * limiter.check("10.0.0.7"); // 0, until 10.0.0.7 has used its burst
 */
export class RateLimiter {
  readonly #global: TokenBucket | undefined;
  readonly #perClient: BucketConfig | undefined;
  /** Least recently used first (a Map keeps insertion order; a hit re-inserts). */
  readonly #clients = new Map<string, TokenBucket>();
  readonly #maxClients: number;
  readonly #now: () => number;

  constructor({
    global,
    perClient,
    maxClients = 10_000,
    now = () => performance.now(),
  }: RateLimiterOptions) {
    this.#now = now;
    this.#maxClients = maxClients;
    this.#perClient = perClient;
    if (global) this.#global = newBucket(global, now());
  }

  /** Per-client buckets held now (at most maxClients). */
  get clients(): number {
    return this.#clients.size;
  }

  check(clientAddress: string): number {
    const now = this.#now();
    if (this.#perClient) {
      let bucket = this.#clients.get(clientAddress);
      if (bucket) this.#clients.delete(clientAddress);
      else {
        if (this.#clients.size >= this.#maxClients)
          this.#clients.delete(this.#clients.keys().next().value!);
        bucket = newBucket(this.#perClient, now);
      }
      this.#clients.set(clientAddress, bucket);
      const wait = bucket.take(now);
      if (wait > 0) return wait;
    }
    return this.#global ? this.#global.take(now) : 0;
  }
}
