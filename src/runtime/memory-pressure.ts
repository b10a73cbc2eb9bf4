import { fs } from "./builtins.ts";
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
  /** The memory the process holds, in bytes. Default residentAnonBytes. */
  sample?: () => number;
  clock: Clock;
  registry: Registry;
  logger: Logger;
}

/**
 * Samples the memory the process holds (residentAnonBytes) on one timer and says when it is
 * over the high-water mark of the memory budget, until it is back under the low-water mark. It runs beside the roles (so
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
  #residentBytes = 0;
  #peakResidentBytes = 0;
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
    this.#sample = options.sample ?? residentAnonBytes;
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
      name: "sidecar_memory_resident_peak_bytes",
      help: "The highest resident memory the process owns (RSS less file-backed pages) sampled since start",
      registers: [options.registry],
    });
    this.#gauge.set(0);
  }

  get active(): boolean {
    return this.#active;
  }

  /** The last RSS sampled and the highest since start, with the marks. */
  get figures(): {
    residentBytes: number;
    peakResidentBytes: number;
    highWaterBytes: number;
    lowWaterBytes: number;
    underPressure: boolean;
  } {
    return {
      residentBytes: this.#residentBytes,
      peakResidentBytes: this.#peakResidentBytes,
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
    const resident = this.#sample();
    this.#residentBytes = resident;
    if (resident > this.#peakResidentBytes) {
      this.#peakResidentBytes = resident;
      this.#peakGauge.set(resident);
    }
    if (!this.#active && resident >= this.highWaterBytes) this.#set(true);
    else if (this.#active && resident < this.lowWaterBytes) this.#set(false);
  }

  #set(active: boolean): void {
    this.#active = active;
    this.#gauge.set(active ? 1 : 0);
    this.#transitions.inc({ to: active ? "on" : "off" });
    const { logger, clock } = this.#options;
    const fields = {
      residentBytes: this.#residentBytes,
      highWaterBytes: this.highWaterBytes,
      lowWaterBytes: this.lowWaterBytes,
    };
    if (active) {
      this.#since = clock.now();
      logger.warn(
        fields,
        "memory pressure: near the memory budget, reading pauses until memory falls",
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
      ? `memory pressure: ${mib(this.#residentBytes)} MiB resident is over the budget's high-water mark of ${mib(this.highWaterBytes)} MiB; reading is paused`
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

let pageSize = 0;

/**
 * The resident memory the process owns: RSS less its file-backed pages (the node binary's
 * code, ~45 MiB, is shared, reclaimable and charged to whichever cgroup read it first). This
 * is what a container's memory limit holds against the process. From /proc/self/statm (one
 * small read); plain RSS where there is no /proc.
 */
export function residentAnonBytes(): number {
  try {
    const [, resident, shared] = fs
      .readFileSync("/proc/self/statm", "latin1")
      .split(" ")
      .map(Number);
    if (resident === undefined || shared === undefined) return process.memoryUsage.rss();
    if (pageSize === 0) pageSize = pageSizeFrom(resident);
    return (resident - shared) * pageSize;
  } catch {
    return process.memoryUsage.rss();
  }
}

/** The page size: RSS in bytes over RSS in pages, rounded to a power of two (4096 on x86-64). */
function pageSizeFrom(residentPages: number): number {
  const ratio = process.memoryUsage.rss() / residentPages;
  return 2 ** Math.round(Math.log2(ratio > 0 ? ratio : 4096));
}
