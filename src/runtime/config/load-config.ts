import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, Scalar } from "yaml";
import type { z } from "zod";
import { ErrorCodes, SidecarError } from "../errors.ts";
import { deepMerge } from "./deep-merge.ts";
import { didYouMean } from "./did-you-mean.ts";
import { hasReference, interpolate, typePlainScalar } from "./interpolate.ts";
import { expectedMessage, formatPath, issueText } from "./issue-format.ts";
import { type LoadedConfig, type SidecarConfig, withConfigHash } from "./loaded-config.ts";
import { runtimeConfigSchema } from "./schema.ts";
import { allowedKeysAt } from "./schema-keys.ts";

export { deepMerge } from "./deep-merge.ts";
export type { LoadedConfig, SidecarConfig } from "./loaded-config.ts";

/** Builds the schema for a config with these top-level keys (the file's and the overlay's). */
export type ConfigSchemaLoader = (keys: readonly string[]) => Promise<z.ZodType<SidecarConfig>>;

export interface LoadConfigOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The schema of the whole file: the runtime's sections plus each role's (composeConfigSchema,
   * which the CLI builds from its list of roles), or a loader that builds it for the file's
   * top-level keys (only the role sections a file has are then loaded; loadConfigFile only).
   * Default: the runtime's sections only.
   */
  schema?: z.ZodType<SidecarConfig> | ConfigSchemaLoader;
  /**
   * Values from command-line flags, merged over the file before validation (mappings merge
   * key by key; anything else replaces). Problems in them are reported like the file's.
   */
  overlay?: Record<string, unknown>;
}

/**
 * Reads, interpolates and validates a sidecar.yaml; throws one SidecarError listing every
 * problem. Without a path, the text of SIDECAR_CONFIG_YAML is the file, else the defaults apply.
 */
export async function loadConfigFile(
  path: string | undefined,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  if (path === undefined) {
    // No file: the config may come inline (an injected container carries it in its env).
    const inline = (options.env ?? process.env).SIDECAR_CONFIG_YAML;
    return inline
      ? loadConfigText(inline, "SIDECAR_CONFIG_YAML", options)
      : loadConfigText("", undefined, options);
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new SidecarError(
        ErrorCodes.CONFIG_NOT_FOUND,
        `Config file "${path}" not found: pass an existing file with -c/--config or SIDECAR_CONFIG`,
      );
    }
    throw new SidecarError(
      ErrorCodes.CONFIG_READ,
      `Cannot read config file "${path}": ${code ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  return loadConfigText(text, path, options);
}

/** parseConfigText, with the schema loaded for the config's top-level keys when it is a loader. */
async function loadConfigText(
  text: string,
  source: string | undefined,
  options: LoadConfigOptions,
): Promise<LoadedConfig> {
  const read = readConfigText(text, source, options);
  const schema =
    typeof options.schema === "function"
      ? await options.schema(Object.keys(read.raw))
      : options.schema;
  return validateConfig(read, schema);
}

/**
 * The same as loadConfigFile, for text already in hand and a schema already built. `source`
 * names it in messages.
 */
export function parseConfigText(
  text: string,
  source: string | undefined,
  options: Omit<LoadConfigOptions, "schema"> & { schema?: z.ZodType<SidecarConfig> } = {},
): LoadedConfig {
  return validateConfig(readConfigText(text, source, options), options.schema);
}

/** A config read, interpolated and merged with its overlay, not yet validated. */
interface ReadConfig {
  source: string | undefined;
  name: string;
  doc: ReturnType<typeof parseDocument>;
  where: (offset: number | undefined) => string;
  raw: Record<string, unknown>;
  /** Problems found so far (unset environment variables). */
  problems: string[];
  /** Paths whose value had an unset variable: their schema issues are not reported again. */
  unresolved: Set<string>;
}

function readConfigText(
  text: string,
  source: string | undefined,
  { env = process.env, overlay }: LoadConfigOptions,
): ReadConfig {
  const name = source ?? "config";
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return name;
    const { line, col } = lineCounter.linePos(offset);
    return `${name}:${line}:${col}`;
  };

  if (doc.errors.length > 0) {
    const details = doc.errors.map(
      (error) => `${where(error.pos[0])}: ${firstLine(error.message)}`,
    );
    throw new SidecarError(ErrorCodes.CONFIG_YAML, `Config file "${name}" is not valid YAML`, {
      details,
    });
  }

  const problems: string[] = [];
  const unresolved = new Set<string>();
  if (doc.contents) {
    walkScalars(doc.contents, [], (scalar, path) => {
      if (typeof scalar.value !== "string" || !hasReference(scalar.value)) return;
      const result = interpolate(scalar.value, env);
      if (result.missing.length > 0) unresolved.add(formatPath(path));
      for (const variable of result.missing) {
        problems.push(
          `${where(scalar.range?.[0])} ${formatPath(path)}: environment variable ${variable} is not set (set it, or write \${${variable}:-default})`,
        );
      }
      scalar.value = scalar.type === Scalar.PLAIN ? typePlainScalar(result.value) : result.value;
    });
  }

  const fromFile = toPlainValue(doc, name);
  const raw = overlay ? deepMerge(fromFile, overlay) : fromFile;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push(
      `${where(doc.contents?.range?.[0])} (top level): expected a mapping of sections (admin, app, …)`,
    );
    throw invalid(name, problems);
  }
  return { source, name, doc, where, raw: raw as Record<string, unknown>, problems, unresolved };
}

function validateConfig(
  { source, name, doc, where, raw, problems, unresolved }: ReadConfig,
  schema = runtimeConfigSchema as z.ZodType<SidecarConfig>,
): LoadedConfig {
  const parsed = schema.safeParse(raw, {
    reportInput: true,
    error: (issue) => expectedMessage(issue),
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (unresolved.has(formatPath(issue.path))) continue; // already reported as an unset variable
      problems.push(...describeIssue(issue, doc, where, schema));
    }
  }
  if (problems.length > 0 || !parsed.success) throw invalid(name, sortByPosition(problems));

  return withConfigHash(parsed.data, source);
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: ReturnType<typeof parseDocument>,
  where: (offset: number | undefined) => string,
  schema: z.ZodType,
): string[] {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(schema, path);
    return issue.keys.map((key) => {
      const node = doc.getIn([...path, key], true) as Node | undefined;
      const keyNode = findKeyNode(doc, path, key);
      const hint = didYouMean(key, allowed);
      const expected = allowed.length > 0 ? ` (expected one of: ${allowed.join(", ")})` : "";
      return `${where(keyNode ?? node?.range?.[0])} ${formatPath([...path, key])}: unknown key${
        hint ? `, did you mean "${hint}"?` : expected
      }`;
    });
  }
  return [`${where(offsetOf(doc, path))} ${formatPath(path)}: ${issueText(issue)}`];
}

/** The offset of the node at `path`, or of its nearest existing ancestor. */
function offsetOf(
  doc: ReturnType<typeof parseDocument>,
  path: readonly PropertyKey[],
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true) as Node | undefined;
    if (node?.range) return node.range[0];
  }
  return undefined;
}

function findKeyNode(
  doc: ReturnType<typeof parseDocument>,
  path: readonly PropertyKey[],
  key: string,
): number | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
  if (!isMap(parent)) return undefined;
  for (const pair of parent.items) {
    if (isScalar(pair.key) && pair.key.value === key) return pair.key.range?.[0];
  }
  return undefined;
}

function walkScalars(
  node: unknown,
  path: PropertyKey[],
  visit: (scalar: Scalar, path: PropertyKey[]) => void,
): void {
  if (isScalar(node)) visit(node, path);
  else if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      walkScalars(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      walkScalars(item, [...path, index], visit);
    });
  }
}

/** Problems in file order (line, then column); those without a position keep their order, first. */
function sortByPosition(problems: string[]): string[] {
  const position = (line: string) => {
    const match = /^\S*?:(\d+):(\d+) /.exec(line);
    return match ? Number(match[1]) * 1e6 + Number(match[2]) : 0;
  };
  return problems
    .map((line, index) => ({ line, index, at: position(line) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ line }) => line);
}

function invalid(name: string, problems: string[]): SidecarError {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return new SidecarError(ErrorCodes.CONFIG_INVALID, `Config file "${name}" has ${count}`, {
    details: problems,
  });
}

/**
 * The document as plain values. yaml refuses to expand too many aliases (a "billion laughs"
 * alias bomb) with a ReferenceError: that is bad YAML like any other, not a bug.
 */
function toPlainValue(doc: ReturnType<typeof parseDocument>, name: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new SidecarError(ErrorCodes.CONFIG_YAML, `Config file "${name}" is not valid YAML`, {
      details: [`${name}: ${firstLine(error instanceof Error ? error.message : String(error))}`],
      cause: error,
    });
  }
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}
