export { parseRetryAfter } from "./retry-after.ts";

/**
 * How a delay is randomised so that many sidecars do not retry in step: `full` waits anywhere in
 * [0, d), `equal` in [d/2, d), `none` exactly d.
 */
export type Jitter = "full" | "equal" | "none";

export interface BackoffPolicy {
  /** The wait before the first retry (before jitter). */
  initialMs: number;
  /** The cap of the exponential growth (before jitter). */
  maxMs: number;
  /** Default "equal". */
  jitter?: Jitter;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

/** 2^1023 is the largest finite power of two; past it the cap applies anyway. */
const maxExponent = 1023;

/**
 * The wait before retry `attempt` (1-based): min(maxMs, initialMs·2^(attempt-1)) with jitter;
 * never less than `retryAfterMs` when given (an upstream's Retry-After). The one backoff of the
 * program: every retry loop computes its wait here.
 *
 * @example
 * backoffDelay(3, { initialMs: 500, maxMs: 60_000 }); // between 1000 and 2000
 * backoffDelay(1, { initialMs: 500, maxMs: 60_000 }, 3000); // 3000
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
): number {
  const { initialMs, maxMs, jitter = "equal", random = Math.random } = policy;
  const exponent = Math.min(maxExponent, Math.max(0, Math.floor(attempt) - 1));
  const capped = Math.min(maxMs, initialMs * 2 ** exponent);
  let delay: number;
  switch (jitter) {
    case "none":
      delay = capped;
      break;
    case "full":
      delay = random() * capped;
      break;
    default:
      delay = capped / 2 + random() * (capped / 2);
  }
  return retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
}

/**
 * A retry loop's backoff state: `next()` counts the attempt and returns the wait before it;
 * `reset()` after a success starts again from `initialMs`.
 *
 * @example
 * const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: "none" });
 * backoff.next(); // 1000
 * backoff.next(); // 2000
 * backoff.reset();
 */
export class Backoff {
  readonly #policy: BackoffPolicy;
  #attempt = 0;

  constructor(policy: BackoffPolicy) {
    this.#policy = policy;
  }

  /** The number of waits handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  next(retryAfterMs?: number): number {
    this.#attempt += 1;
    return backoffDelay(this.#attempt, this.#policy, retryAfterMs);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
