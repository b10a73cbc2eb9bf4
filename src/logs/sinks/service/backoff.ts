export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * The wait before retry number `attempt` (1-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so many sidecars do not retry in step.
 *
 * @example
 * backoffDelay(3, { initialMs: 500, maxMs: 60_000 }); // between 1000 and 2000
 */
export function backoffDelay(
  attempt: number,
  { initialMs, maxMs, random = Math.random }: BackoffOptions,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return base / 2 + random() * (base / 2);
}
