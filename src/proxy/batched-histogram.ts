import { Histogram } from "../runtime/telemetry/metrics-registry.ts";

/** One label set's observations: what `HistogramSeries.observe` adds to, read at scrape time. */
export interface HistogramSeries {
  observe(value: number): void;
}

class Series implements HistogramSeries {
  readonly labels: Record<string, string>;
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Record<string, string>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

type HistogramConfig<T extends string> = ConstructorParameters<typeof Histogram<T>>[0];

/** The fields every prom-client metric has, which its typings leave out. */
interface MetricFields {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  labelNames: readonly string[];
  upperBounds: readonly number[];
  collect?: () => unknown;
}

/**
 * A prom-client Histogram whose label sets are resolved once (`series(labels)`) and then observed
 * with a bucket search and three additions. prom-client's own `labels(...).observe(v)` checks and
 * hashes the labels on every call, which the proxy would pay per request. Scrapes read the same
 * samples, in the same order and shape, as from a Histogram.
 *
 * @example
 * const duration = new BatchedHistogram({ name: "x_seconds", help: "…", labelNames: ["route"], registers });
 * const series = duration.series({ route: "api" }); // once per label set
 * series.observe(0.003); // per request
 */
export class BatchedHistogram<T extends string = string> extends Histogram<T> {
  /**
   * By label values joined with NUL. Not a #private field: Histogram's constructor calls reset(),
   * which creates it, before this class's own fields exist.
   */
  declare seriesByLabels: Map<string, Series>;
  readonly #fields: MetricFields;

  constructor(config: HistogramConfig<T>) {
    super(config);
    this.#fields = this as unknown as MetricFields;
    // Histogram's constructor sets `observe` on the instance, over this class's method.
    this.observe = BatchedHistogram.prototype.observe;
  }

  /** The series of one label set, created on first use. */
  series(labels: Partial<Record<T, string>>): HistogramSeries {
    const names = this.#fields.labelNames;
    const values = labels as Record<string, string>;
    for (const name of Object.keys(values))
      if (!names.includes(name))
        throw new Error(`Added label "${name}" is not included in initial labelset`);
    const key = names.map((name) => values[name] ?? "").join("\u0000");
    let series = this.seriesByLabels.get(key);
    if (!series) {
      series = new Series({ ...values }, this.#fields.upperBounds);
      this.seriesByLabels.set(key, series);
    }
    return series;
  }

  /** As Histogram's: `observe(value)` or `observe(labels, value)` (exemplars are not enabled). */
  override observe(labels: unknown, value?: unknown): void {
    if (typeof labels === "number") this.series({}).observe(labels);
    else this.series(labels as Partial<Record<T, string>>).observe(value as number);
  }

  /** As Histogram's: by a labels object or by label values in `labelNames` order. */
  override labels(...args: unknown[]): Histogram.Internal<T> {
    let labels = args[0] as Partial<Record<T, string>>;
    if (typeof args[0] !== "object") {
      const names = this.#fields.labelNames;
      labels = Object.fromEntries(args.map((v, i) => [names[i], String(v)])) as typeof labels;
    }
    const series = this.series(labels);
    return {
      observe: (value) => series.observe(value),
      startTimer: () => this.startTimer(labels),
    };
  }

  override reset(): void {
    this.seriesByLabels = new Map();
  }

  override zero(labels: Partial<Record<T, string>>): void {
    const series = this.series(labels) as Series;
    series.counts.fill(0);
    series.sum = 0;
    series.count = 0;
  }

  /** The samples as prom-client's Histogram gives them: cumulative buckets, +Inf, sum, count. */
  async getForPromString() {
    const { name, help, type, aggregator, upperBounds: bounds, collect } = this.#fields;
    if (collect) await collect.call(this);
    const bucket = `${name}_bucket`;
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
      exemplar: null | undefined;
    }[] = [];
    for (const series of this.seriesByLabels.values()) {
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({
          labels: { le: bounds[i]! },
          sharedLabels: series.labels,
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      }
      values.push(
        {
          labels: { le: "+Inf" },
          sharedLabels: series.labels,
          value: series.count,
          metricName: bucket,
          exemplar: null,
        },
        {
          labels: {},
          sharedLabels: series.labels,
          value: series.sum,
          metricName: `${name}_sum`,
          exemplar: undefined,
        },
        {
          labels: {},
          sharedLabels: series.labels,
          value: series.count,
          metricName: `${name}_count`,
          exemplar: undefined,
        },
      );
    }
    return { name, help, type, values, aggregator };
  }
}
