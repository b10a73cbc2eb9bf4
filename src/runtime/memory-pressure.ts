import type { Clock, TimerHandle } from "./clock.ts";
import type { Role } from "./role.ts";
import type { Logger } from "./telemetry/logger.ts";
import { Counter, Gauge, type Registry } from "./telemetry/metrics-registry.ts";

/**
 * Whether the process is near its memory budget. Roles hold back while it is active: log
 * sources stop reading (lines wait on disk or in the pipe), the proxy stops reading new
 * requests (connections wait). Nothing is dropped.
 */
export interface MemoryPressureSignal {
  readonly active: boolean;
  /** Calls `listener` on every change; returns the function that removes it. */
  onChange(listener: (active: boolean) => void): () => void;
}

/** The signal without a memory limit: never active. */
export const noMemoryPressure: MemoryPressureSignal = {
  active: false,
  onChange: () => () => {},
};

export interface MemoryPressureOptions {
  /** The plan's budget; the marks are shares of it. */
  budgetBytes: number;
  /** Pressure starts when RSS reaches this share of the budget. Default 0.95. */
  highWater?: number;
  /** …and ends when RSS is back under this share (hysteresis). Default 0.85. */
  lowWater?: number;
  /** How often RSS is sampled. Default 200 ms. */
  intervalMs?: number;
  /** The resident set size in bytes. Default process.memoryUsage.rss. */
  sample?: () => number;
  clock: Clock;
  registry: Registry;
  logger: Logger;
}

/**
 * Samples the process's RSS on one timer and says when it is over the high-water mark of the
 * memory budget, until it is back under the low-water mark. It runs beside the roles (so
 * /readyz shows the pressure as a warning without failing readiness) and publishes
 * `sidecar_memory_pressure`, `sidecar_memory_pressure_transitions_total` and the RSS it saw.
 *
 * @example
 * const pressure = new MemoryPressure({ budgetBytes, clock, registry, logger });
 * pressure.onChange((active) => (active ? source.pause() : source.resume()));
 */
export class MemoryPressure implements Role, MemoryPressureSignal {
  readonly name = "memory";
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  readonly #options: MemoryPressureOptions;
  readonly #sample: () => number;
  readonly #listeners = new Set<(active: boolean) => void>();
  readonly #gauge: Gauge;
  readonly #transitions: Counter;
  readonly #peakGauge: Gauge;
  #timer: TimerHandle | undefined;
  #active = false;
  #rssBytes = 0;
  #peakRssBytes = 0;
  #since = 0;

  constructor(options: MemoryPressureOptions) {
    const { budgetBytes, highWater = 0.95, lowWater = 0.85 } = options;
    if (!(lowWater > 0 && lowWater < highWater))
      throw new RangeError(
        `Memory pressure marks must be 0 < low < high: ${lowWater}, ${highWater}`,
      );
    this.#options = options;
    this.highWaterBytes = Math.floor(budgetBytes * highWater);
    this.lowWaterBytes = Math.floor(budgetBytes * lowWater);
    this.#sample = options.sample ?? (() => process.memoryUsage.rss());
    this.#gauge = new Gauge({
      name: "sidecar_memory_pressure",
      help: "1 while the process is over the high-water mark of its memory budget (reading pauses)",
      registers: [options.registry],
    });
    this.#transitions = new Counter({
      name: "sidecar_memory_pressure_transitions_total",
      help: "Times memory pressure started or ended",
      labelNames: ["to"],
      registers: [options.registry],
    });
    this.#peakGauge = new Gauge({
      name: "sidecar_memory_rss_peak_bytes",
      help: "The highest resident set size sampled since start",
      registers: [options.registry],
    });
    this.#gauge.set(0);
  }

  get active(): boolean {
    return this.#active;
  }

  /** The last RSS sampled and the highest since start, with the marks. */
  get figures(): {
    rssBytes: number;
    peakRssBytes: number;
    highWaterBytes: number;
    lowWaterBytes: number;
    underPressure: boolean;
  } {
    return {
      rssBytes: this.#rssBytes,
      peakRssBytes: this.#peakRssBytes,
      highWaterBytes: this.highWaterBytes,
      lowWaterBytes: this.lowWaterBytes,
      underPressure: this.#active,
    };
  }

  onChange(listener: (active: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes one sample and changes state when a mark is crossed (the timer calls it). */
  check(): void {
    const rss = this.#sample();
    this.#rssBytes = rss;
    if (rss > this.#peakRssBytes) {
      this.#peakRssBytes = rss;
      this.#peakGauge.set(rss);
    }
    if (!this.#active && rss >= this.highWaterBytes) this.#set(true);
    else if (this.#active && rss < this.lowWaterBytes) this.#set(false);
  }

  #set(active: boolean): void {
    this.#active = active;
    this.#gauge.set(active ? 1 : 0);
    this.#transitions.inc({ to: active ? "on" : "off" });
    const { logger, clock } = this.#options;
    const fields = {
      rssBytes: this.#rssBytes,
      highWaterBytes: this.highWaterBytes,
      lowWaterBytes: this.lowWaterBytes,
    };
    if (active) {
      this.#since = clock.now();
      logger.warn(
        fields,
        "memory pressure: near the memory budget, reading pauses until RSS falls",
      );
    } else
      logger.info(
        { ...fields, durationMs: clock.now() - this.#since },
        "memory pressure over: reading resumes",
      );
    for (const listener of this.#listeners) listener(active);
  }

  async start(): Promise<void> {
    this.check();
    this.#timer ??= this.#options.clock.setInterval(
      () => this.check(),
      this.#options.intervalMs ?? 200,
    );
  }

  ready(): boolean {
    return true;
  }

  readonly degradedReason = (): string | undefined =>
    this.#active
      ? `memory pressure: RSS ${mib(this.#rssBytes)} MiB is over ${mib(this.highWaterBytes)} MiB of the budget; reading is paused`
      : undefined;

  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    // Nothing may stay paused while the roles drain.
    if (this.#active) this.#set(false);
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
