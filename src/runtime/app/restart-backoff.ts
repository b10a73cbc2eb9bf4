export interface BackoffOptions {
  initialSeconds: number;
  maxSeconds: number;
}

/** Capped exponential backoff: initial, 2×, 4×, … up to max. `attempt` counts from 0. */
export function backoffDelaySeconds(
  attempt: number,
  { initialSeconds, maxSeconds }: BackoffOptions,
): number {
  return Math.min(maxSeconds, initialSeconds * 2 ** Math.min(attempt, 30));
}
