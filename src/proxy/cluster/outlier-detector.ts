import type { Endpoint } from "./endpoint.ts";

export interface OutlierDetectionOptions {
  consecutiveFailures: number;
  baseEjectionSeconds: number;
  maxEjectionSeconds: number;
  maxEjectionPercent: number;
}

/**
 * Passive health checking: `consecutiveFailures` failures in a row eject an endpoint for
 * base × (times ejected in a row), capped at max; at most maxEjectionPercent of endpoints are
 * ejected at once, but always at least one may be. A success resets the count.
 */
export class OutlierDetector {
  readonly #options: OutlierDetectionOptions;
  readonly #now: () => number;
  readonly #onEject: (endpoint: Endpoint, seconds: number) => void;

  constructor(
    options: OutlierDetectionOptions,
    now: () => number,
    onEject: (endpoint: Endpoint, seconds: number) => void,
  ) {
    this.#options = options;
    this.#now = now;
    this.#onEject = onEject;
  }

  success(endpoint: Endpoint): void {
    endpoint.consecutiveFailures = 0;
    // A success after the ejection ended: the next ejection starts again at the base time.
    if (endpoint.ejectedUntil !== 0 && endpoint.ejectedUntil <= this.#now()) {
      endpoint.ejectedUntil = 0;
      endpoint.ejections = 0;
    }
  }

  failure(endpoint: Endpoint, all: readonly Endpoint[]): void {
    endpoint.consecutiveFailures += 1;
    if (endpoint.consecutiveFailures < this.#options.consecutiveFailures) return;
    const now = this.#now();
    if (endpoint.ejectedUntil > now) return;
    const ejected = all.filter((e) => e.ejectedUntil > now).length;
    const cap = Math.max(1, Math.floor((all.length * this.#options.maxEjectionPercent) / 100));
    if (ejected >= cap) return;
    endpoint.ejections += 1;
    const seconds = Math.min(
      this.#options.baseEjectionSeconds * endpoint.ejections,
      Math.max(this.#options.maxEjectionSeconds, this.#options.baseEjectionSeconds),
    );
    endpoint.ejectedUntil = now + seconds * 1000;
    endpoint.consecutiveFailures = 0;
    this.#onEject(endpoint, seconds);
  }
}
