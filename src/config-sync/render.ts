import Mustache from "mustache";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { OutputFormat } from "./config-section.ts";
import type { SourceSnapshot } from "./sources/config-source.ts";
import type { Values } from "./values.ts";

/** What an output renders from: one of these, decided once from its config. */
export type OutputKind =
  | { kind: "template"; template: string; missingKey: "error" | "empty" }
  | { kind: "values" }
  | { kind: "source"; source: string; key: string | undefined };

export interface RenderInput {
  /** Relative to outputDir; "" is outputDir itself (a source's files at the top). */
  path: string;
  format: OutputFormat;
  what: OutputKind;
}

/** One rendered output: its files (relative to outputDir) and, for json/yaml/env, the parsed content. */
export interface RenderedOutput {
  files: Map<string, Buffer>;
  parsed: unknown;
}

/** The format an output path implies: .json, .yaml/.yml, .env, else text. */
export function formatOf(path: string): OutputFormat {
  if (path.endsWith(".json")) return "json";
  if (/\.ya?ml$/.test(path)) return "yaml";
  if (path.endsWith(".env") || path === ".env") return "env";
  return "text";
}

/** How a value is written into a template: inside a JSON string it is JSON-escaped; objects become JSON. */
function escapeFor(format: OutputFormat): (value: unknown) => string {
  if (format === "json")
    return (value) =>
      typeof value === "string" ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value);
  return (value) =>
    typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

/** Names used outside any section that the values do not have (mustache renders them empty). */
export function missingKeys(template: string, view: Values): string[] {
  const missing: string[] = [];
  for (const token of Mustache.parse(template)) {
    const [type, name] = token as unknown as [string, string];
    if ((type !== "name" && type !== "&") || name === ".") continue;
    let node: unknown = view;
    for (const part of name.split(".")) {
      node =
        typeof node === "object" && node !== null && part in node
          ? (node as Record<string, unknown>)[part]
          : undefined;
    }
    if (node === undefined || node === null) missing.push(name);
  }
  return missing;
}

/** Throws when a template does not parse, e.g. an unclosed section; the message names the problem. */
export function checkTemplate(template: string): void {
  Mustache.parse(template);
}

function parseFormat(format: OutputFormat, text: string): unknown {
  if (format === "json") return JSON.parse(text);
  if (format === "yaml") return parseYaml(text);
  if (format === "env") return parseEnv(text);
  return undefined;
}

const envLine = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** Parses `.env` text into key → value (quotes removed); throws naming the first bad line. */
export function parseEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split("\n").forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const match = envLine.exec(trimmed);
    if (!match) throw new Error(`line ${index + 1} is not KEY=VALUE`);
    let value = match[2]!;
    if (/^".*"$/.test(value)) value = JSON.parse(value) as string;
    else if (/^'.*'$/.test(value)) value = value.slice(1, -1);
    values[match[1]!] = value;
  });
  return values;
}

/** Values as `.env` lines: nested keys joined by `_` and upper-cased, values quoted when needed. */
export function toEnv(values: Values): string {
  const lines: string[] = [];
  const walk = (node: unknown, prefix: string) => {
    if (typeof node === "object" && node !== null && !Array.isArray(node)) {
      for (const [key, value] of Object.entries(node))
        walk(value, prefix ? `${prefix}_${key}` : key);
      return;
    }
    const name = prefix.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
    const text = typeof node === "string" ? node : JSON.stringify(node);
    lines.push(`${name}=${/^[A-Za-z0-9_./:@%+,-]*$/.test(text) ? text : JSON.stringify(text)}`);
  };
  walk(values, "");
  return lines.length ? `${lines.join("\n")}\n` : "";
}

function serialize(format: OutputFormat, values: Values): string {
  if (format === "json") return `${JSON.stringify(values, null, 2)}\n`;
  if (format === "yaml") return stringifyYaml(values);
  if (format === "env") return toEnv(values);
  throw new Error("a text output needs a template");
}

/**
 * Renders one output from the merged values (templates, values) or a source's snapshot (raw
 * files). Throws with the reason when a template key is missing or the result is not the format
 * it claims; the caller names the output.
 */
export function renderOutput(
  input: RenderInput,
  values: Values,
  snapshots: ReadonlyMap<string, SourceSnapshot>,
): RenderedOutput {
  const { what, format, path } = input;
  if (what.kind === "source") {
    const snapshot = snapshots.get(what.source);
    const files = new Map<string, Buffer>();
    // Only an optional source is without values at a build: its files are left out.
    if (!snapshot) return { files, parsed: undefined };
    if (what.key !== undefined) {
      const value = snapshot.entries.get(what.key);
      if (!value) throw new Error(`source "${what.source}" has no entry "${what.key}"`);
      files.set(path, value);
      return { files, parsed: checked(format, value.toString("utf8")) };
    }
    for (const [name, value] of snapshot.entries) files.set(path ? `${path}/${name}` : name, value);
    return { files, parsed: undefined };
  }
  let text: string;
  if (what.kind === "template") {
    if (what.missingKey === "error") {
      const missing = missingKeys(what.template, values);
      if (missing.length)
        throw new Error(`no value for ${missing.map((name) => `"${name}"`).join(", ")}`);
    }
    text = Mustache.render(what.template, values, {}, { escape: escapeFor(format) });
  } else {
    text = serialize(format, values);
  }
  return { files: new Map([[path, Buffer.from(text)]]), parsed: checked(format, text) };
}

function checked(format: OutputFormat, text: string): unknown {
  try {
    return parseFormat(format, text);
  } catch (error) {
    throw new Error(
      `the result is not valid ${format === "env" ? ".env" : format.toUpperCase()}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}
