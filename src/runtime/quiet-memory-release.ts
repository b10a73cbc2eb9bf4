import { getHeapStatistics } from "node:v8";
import type { Clock, TimerHandle } from "./clock.ts";
import { releaseMemory } from "./release-startup-memory.ts";

export interface QuietMemoryReleaseOptions {
  clock: Clock;
  /** How long nothing may be in flight before the collection. Default 300 000 ms (5 min). */
  quietMs?: number;
  /** The least time between two collections. Default 300 000 ms. */
  minIntervalMs?: number;
  /** Heap growth since the last collection that makes one worth it. Default 4 MiB. */
  minGrowthBytes?: number;
  /** The V8 heap's size in bytes. Default `v8.getHeapStatistics().total_heap_size`. */
  heapBytes?: () => number;
  /** The collection; false when it cannot run. Default `releaseMemory` (needs `--expose-gc`). */
  release?: () => boolean;
}

/**
 * Gives back, once traffic has stopped, the memory a busy spell grew. Under load V8 grows the
 * young generation to its maximum and lets the old one fill with what requests in flight
 * promoted; with no allocation afterwards its memory reducer never runs, so an idle proxy
 * holding 1000 keep-alive connections kept 16 MB of young generation for nothing (97–105 → 88–96
 * MB once collected, `npm run bench:proxy:memory`). Roles `track()` what they have in flight and
 * call `quiet()` when it falls to zero; once everything tracked has stayed at zero for
 * `quietMs` and the heap has grown by `minGrowthBytes` since the last collection, one
 * memory-reducing collection runs (idle proxy after a busy spell 92 → 72 MB).
 *
 * Not sooner, because that collection throws away the optimized code of the request path.
 * V8 keeps the maps (object shapes) that optimized code depends on alive for a few collections
 * after their last object died, except in a memory-reducing one: with no request in flight no
 * request object is left, so their maps die and ~90 optimized functions are deoptimized
 * (`--trace-deopt`: "embedded weak objects cleared"). The next seconds of traffic run
 * unoptimized while V8 recompiles: up to 1.5× the CPU per request, and p99 +2 to +5 ms at
 * 5000 req/s (when this waited 30 s: 35 s idle, then `hey`, against the same with no
 * collection). Nothing else gives the memory back (a regular full collection keeps V8's page
 * pool and young generation), so the collection waits for 5 minutes of quiet: an idle spell, not
 * a lull between bursts of traffic.
 *
 * @example
 * const release = new QuietMemoryRelease({ clock: systemClock });
 * release.track(() => inFlight);
 * if (--inFlight === 0) release.quiet();
 */
export class QuietMemoryRelease {
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #minIntervalMs: number;
  readonly #minGrowthBytes: number;
  readonly #heapBytes: () => number;
  readonly #release: () => boolean;
  readonly #sources = new Set<() => number>();
  #timer: TimerHandle | undefined;
  #quietSince = 0;
  #lastAt = Number.NEGATIVE_INFINITY;
  #heapAfterLast: number;
  #closed = false;
  /** Collections run. */
  collections = 0;

  constructor({
    clock,
    quietMs = 300_000,
    minIntervalMs = 300_000,
    minGrowthBytes = 4 * 1024 * 1024,
    heapBytes = () => getHeapStatistics().total_heap_size,
    release = releaseMemory,
  }: QuietMemoryReleaseOptions) {
    this.#clock = clock;
    this.#quietMs = quietMs;
    this.#minIntervalMs = minIntervalMs;
    this.#minGrowthBytes = minGrowthBytes;
    this.#heapBytes = heapBytes;
    this.#release = release;
    this.#heapAfterLast = heapBytes();
  }

  /** Counts `inFlight` among what must be at zero; the function returned stops counting it. */
  track(inFlight: () => number): () => void {
    this.#sources.add(inFlight);
    return () => this.#sources.delete(inFlight);
  }

  /** Something tracked fell to zero: the quiet spell starts now. Cheap: one timer at most. */
  quiet(): void {
    this.#quietSince = this.#clock.now();
    if (this.#timer === undefined && !this.#closed) this.#arm(this.#quietMs);
  }

  /** Collects now (after the start: runtime/release-startup-memory.ts); the heap from here is the new baseline. */
  releaseNow(): boolean {
    if (!this.#release()) return false;
    this.collections += 1;
    this.#lastAt = this.#clock.now();
    this.#heapAfterLast = this.#heapBytes();
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#check();
    }, ms);
  }

  #check(): void {
    for (const inFlight of this.#sources) if (inFlight() > 0) return; // busy: a later quiet() re-arms
    const now = this.#clock.now();
    const due = Math.max(this.#quietSince + this.#quietMs, this.#lastAt + this.#minIntervalMs);
    if (now < due) {
      this.#arm(due - now);
      return;
    }
    if (this.#heapBytes() - this.#heapAfterLast >= this.#minGrowthBytes) this.releaseNow();
  }
}
