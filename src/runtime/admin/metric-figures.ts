import type { Registry } from "prom-client";

export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  /** For histograms: `..._bucket`, `..._sum` or `..._count`. */
  metricName?: string;
}

/**
 * The samples of one metric, read the way a scrape reads them (collect callbacks run), so a
 * status panel shows the same numbers as /metrics. Empty when the metric does not exist.
 */
export async function readSamples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const { values } = await metric.get();
  return values as Sample[];
}

/** The sum of the samples, by the value of `label` ("" when a sample lacks it). */
export function sumBy(samples: readonly Sample[], label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const sample of samples) {
    const key = String(sample.labels[label] ?? "");
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return sums;
}

/**
 * The `q` quantile of a histogram's buckets, by the value of `label` (buckets of other label
 * values summed), interpolated linearly inside the bucket as Prometheus' histogram_quantile
 * does; undefined for a group without observations.
 */
export function quantileBy(
  samples: readonly Sample[],
  label: string,
  q: number,
): Map<string, number | undefined> {
  const buckets = new Map<string, Map<number, number>>();
  for (const sample of samples) {
    if (!sample.metricName?.endsWith("_bucket")) continue;
    const key = String(sample.labels[label] ?? "");
    const le = sample.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
    const group = buckets.get(key) ?? new Map<number, number>();
    group.set(le, (group.get(le) ?? 0) + sample.value);
    buckets.set(key, group);
  }
  const result = new Map<string, number | undefined>();
  for (const [key, group] of buckets) {
    const sorted = [...group.entries()].sort((a, b) => a[0] - b[0]);
    const total = sorted.at(-1)?.[1] ?? 0;
    if (total === 0) {
      result.set(key, undefined);
      continue;
    }
    const rank = q * total;
    let previousLe = 0;
    let previousCount = 0;
    let value: number | undefined;
    for (const [le, count] of sorted) {
      if (count >= rank) {
        value = Number.isFinite(le)
          ? previousLe + ((le - previousLe) * (rank - previousCount)) / (count - previousCount || 1)
          : previousLe;
        break;
      }
      previousLe = le;
      previousCount = count;
    }
    result.set(key, value);
  }
  return result;
}

/**
 * Per-second rates of counters between two reads (one panel render and the next). The first
 * read of a key has no rate yet.
 */
export class RateMeter {
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; total: number }>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  rate(key: string, total: number): number | undefined {
    const at = this.#now();
    const last = this.#last.get(key);
    this.#last.set(key, { at, total });
    if (!last || at <= last.at || total < last.total) return undefined;
    return ((total - last.total) * 1000) / (at - last.at);
  }
}

/** A figure's number for people: 3 significant digits, thousands without exponent. */
export function formatNumber(value: number | undefined, unit = ""): string {
  if (value === undefined || Number.isNaN(value)) return "–";
  const text =
    Math.abs(value) >= 100
      ? Math.round(value).toLocaleString("en-US")
      : value.toPrecision(3).replace(/\.?0+$/, "");
  return `${text}${unit}`;
}
