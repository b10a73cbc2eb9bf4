import {
  belongsTo,
  type Labels,
  labelNamePattern,
  type MetricFamily,
  type MetricType,
  metricNamePattern,
  type Sample,
} from "./metric-family.ts";
import type { ExpositionFormat } from "./write-exposition.ts";

/** Exposition text that is not valid; `line` is 1-based. */
export class ExpositionParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "ExpositionParseError";
    this.line = line;
  }
}

const textTypes = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const omTypes: Record<string, MetricType> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
  unknown: "untyped",
  info: "info",
  stateset: "stateset",
  gaugehistogram: "gaugehistogram",
};

export interface ParseOptions {
  /** Which grammar; default: OpenMetrics when the text has a `# EOF` line, else text. */
  format?: ExpositionFormat;
}

interface Pending {
  family: MetricFamily;
  /** The name in the TYPE line (the OpenMetrics family name for OpenMetrics input). */
  declared: string;
  series: Set<string>;
}

/**
 * Parses Prometheus text 0.0.4 or OpenMetrics 1.0 into families named as the text format names
 * them (an OpenMetrics counter `foo` becomes family `foo_total`). Strict where the output could
 * otherwise be invalid: a bad name, label or value, a second TYPE line for one name, a family
 * whose samples are not grouped together, or a repeated series throws ExpositionParseError.
 * Exemplars are dropped.
 */
export function parseExposition(text: string, options: ParseOptions = {}): MetricFamily[] {
  const format = options.format ?? (/^# EOF\s*$/m.test(text) ? "openmetrics" : "text");
  const om = format === "openmetrics";
  const families: MetricFamily[] = [];
  const closed = new Set<string>();
  let current: Pending | undefined;
  const meta = new Map<string, { type?: MetricType; help?: string; unit?: string }>();
  const lines = text.split("\n");
  let sawEof = false;

  const close = () => {
    if (!current) return;
    const { family } = current;
    if (om && family.type === "counter") family.name = `${family.name}_total`;
    if (om && family.type === "info") family.name = `${family.name}_info`;
    closed.add(current.declared);
    families.push(family);
    current = undefined;
  };
  const open = (lineNo: number, declared: string, type: MetricType) => {
    if (closed.has(declared))
      throw new ExpositionParseError(lineNo, `samples of "${declared}" are not grouped together`);
    close();
    const m = meta.get(declared);
    const family: MetricFamily = { name: declared, type, samples: [] };
    if (m?.help !== undefined) family.help = m.help;
    if (m?.unit !== undefined) family.unit = m.unit;
    current = { family, declared, series: new Set() };
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    if (line.endsWith("\r")) {
      if (om) throw new ExpositionParseError(lineNo, "carriage return in OpenMetrics text");
      line = line.slice(0, -1);
    }
    if (sawEof) {
      if (line !== "" || i !== lines.length - 1)
        throw new ExpositionParseError(lineNo, "text after # EOF");
      continue;
    }
    if (line.trim() === "") {
      if (om && i !== lines.length - 1)
        throw new ExpositionParseError(lineNo, "empty line in OpenMetrics text");
      continue;
    }
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE|UNIT|EOF)(?:\s+(\S+)(?:\s(.*))?)?$/.exec(line);
      if (!m) {
        if (om) throw new ExpositionParseError(lineNo, "unknown comment line");
        continue;
      }
      const [, keyword, name, rest = ""] = m;
      if (keyword === "EOF") {
        if (!om) throw new ExpositionParseError(lineNo, "# EOF in text format");
        sawEof = true;
        continue;
      }
      if (!name || !metricNamePattern.test(name))
        throw new ExpositionParseError(lineNo, `invalid metric name "${name ?? ""}"`);
      const entry = meta.get(name) ?? {};
      if (keyword === "HELP") {
        if (entry.help !== undefined)
          throw new ExpositionParseError(lineNo, `second HELP line for "${name}"`);
        entry.help = unescapeHelp(rest, om);
        if (current?.declared === name) current.family.help = entry.help;
      } else if (keyword === "UNIT") {
        if (!om) throw new ExpositionParseError(lineNo, "# UNIT in text format");
        entry.unit = rest.trim();
        if (current?.declared === name) current.family.unit = entry.unit;
      } else {
        if (entry.type !== undefined || closed.has(name))
          throw new ExpositionParseError(lineNo, `second TYPE line for "${name}"`);
        const word = rest.trim();
        const type = om ? omTypes[word] : textTypes.has(word) ? (word as MetricType) : undefined;
        if (!type) throw new ExpositionParseError(lineNo, `unknown metric type "${word}"`);
        entry.type = type;
        meta.set(name, entry);
        if (current?.declared === name && current.family.samples.length > 0)
          throw new ExpositionParseError(lineNo, `TYPE line for "${name}" after its samples`);
        open(lineNo, name, type);
        continue;
      }
      meta.set(name, entry);
      continue;
    }
    const sample = parseSampleLine(line, lineNo, om);
    if (!current || !belongsTo(sample.name, current.declared, current.family.type, om)) {
      // A sample without a TYPE line: an untyped family of its own name.
      const declared = meta.get(sample.name)?.type ? undefined : sample.name;
      if (declared === undefined)
        throw new ExpositionParseError(lineNo, `sample "${sample.name}" outside its family`);
      open(lineNo, declared, "untyped");
    }
    const pending = current!;
    const key = seriesKey(sample);
    if (pending.series.has(key))
      throw new ExpositionParseError(lineNo, `repeated series ${sample.name}${key}`);
    pending.series.add(key);
    pending.family.samples.push(sample);
  }
  if (om && !sawEof) throw new ExpositionParseError(lines.length, "missing # EOF");
  close();
  return families;
}

function seriesKey(sample: Sample): string {
  const names = Object.keys(sample.labels).sort();
  return `${sample.name}{${names.map((n) => `${n}=${JSON.stringify(sample.labels[n])}`).join(",")}}`;
}

function unescapeHelp(text: string, om: boolean): string {
  return text.replace(/\\(.)/g, (all, c: string) =>
    c === "n" ? "\n" : c === "\\" ? "\\" : om && c === '"' ? '"' : all,
  );
}

function parseValue(text: string | undefined, lineNo: number, what: string): number {
  if (text === undefined || text === "") throw new ExpositionParseError(lineNo, `missing ${what}`);
  const lower = text.toLowerCase();
  if (lower === "nan") return Number.NaN;
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && !/^0x[0-9a-f]+$/i.test(text))
    throw new ExpositionParseError(lineNo, `invalid ${what} "${text}"`);
  return Number(text);
}

function parseSampleLine(line: string, lineNo: number, om: boolean): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new ExpositionParseError(lineNo, "invalid metric name");
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Labels = {};
  if (line[pos] === "{") {
    pos++;
    for (;;) {
      while (line[pos] === " ") pos++;
      if (line[pos] === "}") {
        pos++;
        break;
      }
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(pos));
      if (!labelMatch || !labelNamePattern.test(labelMatch[1]!))
        throw new ExpositionParseError(lineNo, `invalid label in "${name}"`);
      const labelName = labelMatch[1]!;
      pos += labelMatch[0].length;
      let value = "";
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new ExpositionParseError(lineNo, "unterminated label value");
        pos++;
        if (c === '"') break;
        if (c === "\\") {
          const next = line[pos++];
          value += next === "n" ? "\n" : next === "\\" ? "\\" : next === '"' ? '"' : `\\${next}`;
        } else value += c;
      }
      if (labelName in labels)
        throw new ExpositionParseError(lineNo, `label "${labelName}" repeated in "${name}"`);
      labels[labelName] = value;
      while (line[pos] === " ") pos++;
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}")
        throw new ExpositionParseError(lineNo, `expected , or } in labels of "${name}"`);
    }
  }
  let rest = line.slice(pos);
  if (om) {
    const exemplar = rest.indexOf(" # ");
    if (exemplar >= 0) rest = rest.slice(0, exemplar);
  }
  const fields = rest.trim().split(/[ \t]+/);
  if (!/^[ \t]/.test(rest))
    throw new ExpositionParseError(lineNo, `expected a value after "${name}"`);
  if (fields.length > 2)
    throw new ExpositionParseError(lineNo, `unexpected text after the value of "${name}"`);
  const sample: Sample = { name, labels, value: parseValue(fields[0], lineNo, "value") };
  if (fields[1] !== undefined) {
    const ts = parseValue(fields[1], lineNo, "timestamp");
    if (!Number.isFinite(ts)) throw new ExpositionParseError(lineNo, "invalid timestamp");
    sample.timestampMs = om ? ts * 1000 : ts;
  }
  return sample;
}
