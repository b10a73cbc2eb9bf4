/**
 * Metric families as both Prometheus exposition formats carry them (text 0.0.4 and
 * OpenMetrics 1.0), for the admin server's /metrics and for roles that read or produce
 * exposition text (the app scrape, node collectors, the textfile collector).
 *
 * A family is named as the text format names it: a counter's family name is the name of its
 * samples (`node_cpu_seconds_total`), an info family's ends in `_info`. The OpenMetrics writer
 * derives the OpenMetrics family name from it.
 */
export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "summary"
  | "untyped"
  | "info"
  | "stateset"
  | "gaugehistogram";

/** Label names to values, in the order they are written. */
export type Labels = Record<string, string>;

export interface Sample {
  /** The full sample name, e.g. `http_requests_total` or `latency_seconds_bucket`. */
  name: string;
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch, when the source gave one. */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  /** The OpenMetrics unit (a suffix of the name), when the source declared one. */
  unit?: string;
  samples: Sample[];
}

export const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The suffixes each type's sample names carry after the family name, per format. */
const textSuffixes: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};
const omSuffixes: Partial<Record<MetricType, readonly string[]>> = {
  counter: ["_total", "_created", ""],
  info: ["_info"],
  histogram: ["_bucket", "_sum", "_count", "_created"],
  gaugehistogram: ["_bucket", "_gcount", "_gsum"],
  summary: ["", "_sum", "_count", "_created"],
};

/**
 * Whether a sample named `sample` belongs to the family declared (in its TYPE line) as `family`
 * of `type`, in the text format or in OpenMetrics (where a counter `foo` has samples `foo_total`).
 */
export function belongsTo(
  sample: string,
  family: string,
  type: MetricType,
  openMetrics: boolean,
): boolean {
  if (!sample.startsWith(family)) return false;
  const suffixes = (openMetrics ? omSuffixes : textSuffixes)[type] ?? [""];
  return suffixes.includes(sample.slice(family.length));
}

/**
 * The names the family takes up in either format (its samples' names and its OpenMetrics
 * family name): two families that share one cannot be served together.
 */
export function sampleNames(family: Pick<MetricFamily, "name" | "type">): string[] {
  const base = family.name;
  switch (family.type) {
    case "histogram":
      return [`${base}_bucket`, `${base}_sum`, `${base}_count`, `${base}_created`];
    case "gaugehistogram":
      return [`${base}_bucket`, `${base}_gcount`, `${base}_gsum`];
    case "summary":
      return [base, `${base}_sum`, `${base}_count`, `${base}_created`];
    case "counter": {
      // The OpenMetrics family name too: a gauge `x` and a counter `x_total` are both `x` there.
      const stem = base.replace(/_total$/, "");
      return stem === base
        ? [base, `${base}_total`, `${base}_created`]
        : [base, stem, `${stem}_created`];
    }
    case "info":
      return [base, base.replace(/_info$/, "")];
    default:
      return [base];
  }
}
