import { TokenBucket } from "./token-bucket.ts";

export interface BucketConfig {
  requestsPerSecond: number;
  burst?: number | undefined;
}

export interface RateLimiterOptions {
  global?: BucketConfig | undefined;
  perClient?: BucketConfig | undefined;
  /** Per-client buckets kept at most; full buckets are forgotten first (memory stays bounded). */
  maxClients?: number;
  now?: () => number;
}

/**
 * The local rate limit filter: a global token bucket and one per client address.
 * `check` returns 0 to let the request through, else the seconds the client should wait.
 */
export class RateLimiter {
  readonly #global: TokenBucket | undefined;
  readonly #perClient: BucketConfig | undefined;
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
    if (global)
      this.#global = new TokenBucket(
        global.requestsPerSecond,
        global.burst ?? Math.max(1, Math.ceil(global.requestsPerSecond)),
        now(),
      );
  }

  check(clientAddress: string): number {
    const now = this.#now();
    if (this.#perClient) {
      let bucket = this.#clients.get(clientAddress);
      if (!bucket) {
        if (this.#clients.size >= this.#maxClients) this.#evict(now);
        const { requestsPerSecond, burst } = this.#perClient;
        bucket = new TokenBucket(
          requestsPerSecond,
          burst ?? Math.max(1, Math.ceil(requestsPerSecond)),
          now,
        );
        this.#clients.set(clientAddress, bucket);
      }
      const wait = bucket.take(now);
      if (wait > 0) return wait;
    }
    return this.#global ? this.#global.take(now) : 0;
  }

  #evict(now: number): void {
    for (const [key, bucket] of this.#clients) if (bucket.isFull(now)) this.#clients.delete(key);
    // Still full of busy clients: forget the oldest (Map keeps insertion order).
    while (this.#clients.size >= this.#maxClients) {
      const oldest = this.#clients.keys().next().value;
      if (oldest === undefined) break;
      this.#clients.delete(oldest);
    }
  }
}
