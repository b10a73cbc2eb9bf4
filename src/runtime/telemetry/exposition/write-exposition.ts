import type { Labels, MetricFamily, Sample } from "./metric-family.ts";

export type ExpositionFormat = "text" | "openmetrics";

export const contentTypes: Record<ExpositionFormat, string> = {
  text: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/**
 * The format a scraper asked for in its Accept header: OpenMetrics when it lists
 * `application/openmetrics-text` with a q above every text/plain entry (Prometheus sends
 * `application/openmetrics-text;version=1.0.0,…;q=0.5,text/plain;version=0.0.4;q=0.4,…`), else text.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return "text";
  let openMetrics = -1;
  let text = -1;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (Number.isNaN(q)) continue;
    if (type === "application/openmetrics-text") openMetrics = Math.max(openMetrics, q);
    else if (type === "text/plain" || type === "*/*" || type === "text/*") text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text ? "openmetrics" : "text";
}

/** A sample value as both formats spell it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    : value;
}

function formatLabels(labels: Labels): string {
  let out = "";
  for (const name in labels) {
    out += `${out ? "," : "{"}${name}="${escapeLabelValue(labels[name]!)}"`;
  }
  return out ? `${out}}` : "";
}

function escapeHelp(help: string, openMetrics: boolean): string {
  const escaped = help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return openMetrics ? escaped.replace(/"/g, '\\"') : escaped;
}

const textType: Record<MetricFamily["type"], string | undefined> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
  untyped: "untyped",
  info: "gauge",
  stateset: "gauge",
  gaugehistogram: undefined,
};

/**
 * Families in the Prometheus text format 0.0.4. `_created` samples (OpenMetrics only) are left
 * out, and so are gauge histograms, which the text format cannot express.
 */
export function writeText(families: Iterable<MetricFamily>): string {
  const parts: string[] = [];
  for (const family of families) {
    const type = textType[family.type];
    if (!type) continue;
    if (family.help !== undefined)
      parts.push(`# HELP ${family.name} ${escapeHelp(family.help, false)}\n`);
    parts.push(`# TYPE ${family.name} ${type}\n`);
    const created = family.type === "gauge" || family.type === "untyped" ? undefined : "_created";
    for (const sample of family.samples) {
      if (created && sample.name.endsWith(created)) continue;
      parts.push(sampleLine(sample, sample.name, false));
    }
  }
  return parts.join("");
}

function sampleLine(sample: Sample, name: string, openMetrics: boolean): string {
  const ts =
    sample.timestampMs === undefined
      ? ""
      : ` ${openMetrics ? formatValue(sample.timestampMs / 1000) : Math.round(sample.timestampMs)}`;
  return `${name}${formatLabels(sample.labels)} ${formatValue(sample.value)}${ts}\n`;
}

const omType: Record<MetricFamily["type"], string> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
  untyped: "unknown",
  info: "info",
  stateset: "stateset",
  gaugehistogram: "gaugehistogram",
};

/** Families in OpenMetrics 1.0 text, ending with `# EOF`. */
export function writeOpenMetrics(families: Iterable<MetricFamily>): string {
  const parts: string[] = [];
  for (const family of families) {
    let name = family.name;
    if (family.type === "counter") name = name.replace(/_total$/, "");
    else if (family.type === "info") name = name.replace(/_info$/, "");
    parts.push(`# TYPE ${name} ${omType[family.type]}\n`);
    if (family.unit && name.endsWith(`_${family.unit}`))
      parts.push(`# UNIT ${name} ${family.unit}\n`);
    if (family.help !== undefined) parts.push(`# HELP ${name} ${escapeHelp(family.help, true)}\n`);
    for (const sample of family.samples) {
      let sampleName = sample.name;
      if (family.type === "counter" && !sampleName.endsWith("_created"))
        sampleName = `${name}_total`;
      else if (family.type === "info") sampleName = `${name}_info`;
      parts.push(sampleLine(sample, sampleName, true));
    }
  }
  parts.push("# EOF\n");
  return parts.join("");
}

export function writeExposition(
  families: Iterable<MetricFamily>,
  format: ExpositionFormat,
): string {
  return format === "openmetrics" ? writeOpenMetrics(families) : writeText(families);
}
