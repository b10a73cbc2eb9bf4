import type { Registry } from "prom-client";
import type { Labels, MetricFamily, MetricType } from "./metric-family.ts";
import { formatValue } from "./write-exposition.ts";

interface RegistryMetric {
  name: string;
  type: string;
}

interface JsonMetric {
  name: string;
  help: string;
  type: string;
  values: { value: number; labels?: Record<string, string | number>; metricName?: string }[];
}

function asType(type: string): MetricType {
  return type === "counter" || type === "gauge" || type === "histogram" || type === "summary"
    ? type
    : "untyped";
}

/** The families a prom-client registry holds, by name and type, without collecting values. */
export function registryFamilyHeads(registry: Registry): { name: string; type: MetricType }[] {
  return (registry.getMetricsAsArray() as unknown as RegistryMetric[]).map((metric) => ({
    name: metric.name,
    type: asType(metric.type),
  }));
}

/** Collects a prom-client registry into families, for writing in either exposition format. */
export async function registryFamilies(registry: Registry): Promise<MetricFamily[]> {
  const metrics = (await registry.getMetricsAsJSON()) as unknown as JsonMetric[];
  return metrics.map((metric) => ({
    name: metric.name,
    type: asType(metric.type),
    help: metric.help,
    samples: metric.values.map((value) => {
      const labels: Labels = {};
      for (const [key, label] of Object.entries(value.labels ?? {}))
        labels[key] = typeof label === "number" ? formatValue(label) : String(label);
      return { name: value.metricName ?? metric.name, labels, value: value.value };
    }),
  }));
}
