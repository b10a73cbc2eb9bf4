import type { Labels, MetricFamily } from "../runtime/telemetry/exposition/metric-family.ts";

export interface MergeRules {
  keep: readonly RegExp[];
  drop: readonly RegExp[];
  /** Added to every sample; an app label of the same name is kept as `exported_<name>`. */
  labels: Labels;
}

/** Families left after keep/drop by family name. */
export function selectFamilies(families: MetricFamily[], rules: MergeRules): MetricFamily[] {
  return families.filter(
    (family) =>
      (rules.keep.length === 0 || rules.keep.some((r) => r.test(family.name))) &&
      !rules.drop.some((r) => r.test(family.name)),
  );
}

/**
 * Adds the extra labels to every sample. A label the app set itself is renamed
 * `exported_<name>` (what Prometheus does with honor_labels: false), so neither value is lost.
 */
export function addLabels(families: MetricFamily[], labels: Labels): void {
  const entries = Object.entries(labels);
  if (entries.length === 0) return;
  for (const family of families)
    for (const sample of family.samples) {
      const own = sample.labels;
      const merged: Labels = {};
      for (const name in own) merged[name in labels ? `exported_${name}` : name] = own[name]!;
      for (const [name, value] of entries) merged[name] = value;
      sample.labels = merged;
    }
}

/** Samples in all families. */
export function countSeries(families: readonly MetricFamily[]): number {
  let n = 0;
  for (const family of families) n += family.samples.length;
  return n;
}
