import { parse as parseYaml } from "yaml";
import type { SourceSnapshot } from "./sources/config-source.ts";

export type ParseMode = "auto" | "json" | "yaml" | "text";
export type Values = Record<string, unknown>;

/**
 * An entry name as a path in the values tree: split on `/` and `.`, after dropping a parsed
 * file's extension, so `log.level` is `{{log.level}}`, `db/host` is `{{db.host}}` and
 * `settings.json` `{"a":1}` is `{{settings.a}}`.
 */
export function entryPath(name: string, parsed: boolean): string[] {
  const base = parsed ? name.replace(/\.(json|ya?ml)$/, "") : name;
  return base.split(/[/.]/).filter((part) => part.length > 0);
}

function parseMode(name: string, mode: ParseMode): "json" | "yaml" | "text" {
  if (mode !== "auto") return mode;
  if (name.endsWith(".json")) return "json";
  if (/\.ya?ml$/.test(name)) return "yaml";
  return "text";
}

/** Parses one entry's bytes; throws with the entry's name when it is not the JSON/YAML it claims. */
export function parseEntry(name: string, value: Buffer, mode: ParseMode): unknown {
  const how = parseMode(name, mode);
  const text = value.toString("utf8");
  try {
    if (how === "json") return JSON.parse(text);
    if (how === "yaml") return parseYaml(text);
  } catch (error) {
    throw new Error(
      `entry "${name}" is not valid ${how.toUpperCase()}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  // A value file usually ends with a newline (`kubectl create configmap --from-file`); in a
  // template it is one value, so that newline goes.
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}

function isObject(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep-merges `from` into `into`: objects merge key by key, anything else replaces. */
export function mergeInto(into: Values, from: Values): Values {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    into[key] = isObject(existing) && isObject(value) ? mergeInto({ ...existing }, value) : value;
  }
  return into;
}

/** The values tree of one snapshot. */
export function snapshotValues(snapshot: SourceSnapshot, mode: ParseMode): Values {
  const root: Values = {};
  for (const name of [...snapshot.entries.keys()].sort()) {
    const parsed = parseEntry(name, snapshot.entries.get(name)!, mode);
    const path = snapshot.single ? [] : entryPath(name, parseMode(name, mode) !== "text");
    if (path.length === 0) {
      // A document at the root: an object merges; anything else is kept under its entry name.
      if (isObject(parsed)) mergeInto(root, parsed);
      else if (name !== "") root[name] = parsed;
      continue;
    }
    let node = root;
    for (const part of path.slice(0, -1)) {
      if (!isObject(node[part])) node[part] = {};
      node = node[part] as Values;
    }
    const last = path.at(-1)!;
    node[last] =
      isObject(node[last]) && isObject(parsed) ? mergeInto(node[last] as Values, parsed) : parsed;
  }
  return root;
}

/** The values of every source merged in source order: a later source wins a conflict. */
export function mergeValues(
  sources: readonly { snapshot: SourceSnapshot; parse: ParseMode }[],
): Values {
  const merged: Values = {};
  for (const { snapshot, parse } of sources) mergeInto(merged, snapshotValues(snapshot, parse));
  return merged;
}
