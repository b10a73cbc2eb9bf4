import {
  type CollectorContext,
  NoDataError,
  type NodeCollector,
  nodeCollectors,
} from "../metrics/collectors/index.ts";
import { describeError } from "../runtime/errors.ts";
import type { MetricFamily } from "../runtime/telemetry/exposition/metric-family.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";

export interface CollectorStatus {
  name: string;
  ok: boolean;
  durationSeconds: number;
  error?: string;
}

/**
 * Runs the enabled collectors at each scrape, all at once, and adds node_exporter's
 * node_scrape_collector_success / _duration_seconds per collector. A collector that fails is
 * reported there and logged when its error changes; the others are served all the same.
 */
export class NodeMetrics {
  readonly #collectors: { name: string; collector: NodeCollector }[];
  readonly #logger: Logger;
  readonly #lastError = new Map<string, string>();
  #last: CollectorStatus[] = [];

  constructor(names: readonly string[], ctx: CollectorContext) {
    this.#logger = ctx.logger;
    this.#collectors = nodeCollectors
      .filter((c) => names.includes(c.name))
      .map((c) => ({ name: c.name, collector: c.create(ctx) }));
  }

  /** How each collector did at the last scrape (for the status page). */
  get lastScrape(): readonly CollectorStatus[] {
    return this.#last;
  }

  async collect(): Promise<MetricFamily[]> {
    const results = await Promise.all(
      this.#collectors.map(async ({ name, collector }) => {
        const start = performance.now();
        try {
          const families = await collector.collect();
          return { name, families, ok: true, seconds: (performance.now() - start) / 1000 };
        } catch (error) {
          this.#report(name, error);
          return {
            name,
            families: [],
            ok: false,
            seconds: (performance.now() - start) / 1000,
            error: describeError(error),
          };
        }
      }),
    );
    const out: MetricFamily[] = [];
    const names = new Set<string>();
    const duration: MetricFamily = {
      name: "node_scrape_collector_duration_seconds",
      type: "gauge",
      help: "node_exporter: Duration of a collector scrape.",
      samples: [],
    };
    const success: MetricFamily = {
      name: "node_scrape_collector_success",
      type: "gauge",
      help: "node_exporter: Whether a collector succeeded.",
      samples: [],
    };
    for (const result of results) {
      if (result.ok && this.#lastError.delete(result.name))
        this.#logger.info({ collector: result.name }, "node collector recovered");
      for (const family of result.families) {
        if (names.has(family.name)) {
          this.#report(
            result.name,
            new Error(`family "${family.name}" is already served by another collector`),
          );
          continue;
        }
        names.add(family.name);
        out.push(family);
      }
      const labels = { collector: result.name };
      duration.samples.push({ name: duration.name, labels, value: result.seconds });
      success.samples.push({ name: success.name, labels, value: result.ok ? 1 : 0 });
    }
    this.#last = results.map((r) => ({
      name: r.name,
      ok: r.ok,
      durationSeconds: r.seconds,
      ...(r.error === undefined ? {} : { error: r.error }),
    }));
    out.push(duration, success);
    return out;
  }

  #report(collector: string, error: unknown): void {
    const message = describeError(error);
    if (this.#lastError.get(collector) === message) return;
    this.#lastError.set(collector, message);
    if (error instanceof NoDataError)
      this.#logger.info({ collector, reason: message }, "node collector has no data");
    else this.#logger.warn({ collector, error: message }, "node collector failed");
  }
}
