/**
 * Checks Kubernetes objects against the OpenAPI schemas of Kubernetes 1.36 as the npm package
 * kubernetes-models (5.1) ships them, compiled to validators, with no network: types, required
 * fields and enums through the package's own validate(), and, as the API server's strict
 * field validation does, unknown fields (a misspelt `readinesProbe` is not silently ignored)
 * by walking the object along the package's type declarations.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The declaration file beside the module a package exports under `specifier`. */
function declarationOf(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, ".d.ts");
}
/** The Kubernetes version the schemas come from (kubernetes-models' changelog). */
export const kubernetesSchemaVersion = "1.36";

/** Where the model of `apiVersion`/`kind` lives, or undefined for a kind we do not know. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com")
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  if (group === "cert-manager.io")
    return `@kubernetes-models/cert-manager/${group}/${version}/${kind}`;
  return group === ""
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
}

interface Fields {
  /** Property → the declaration file of its type (undefined: a leaf or free-form map). */
  props: Map<string, string | undefined>;
}

const declarations = new Map<string, Fields | undefined>();

/** The properties the first interface of a .d.ts declares, and where each one's type lives. */
function fieldsOf(file: string): Fields | undefined {
  if (declarations.has(file)) return declarations.get(file);
  const text = readFileSync(file, "utf8");
  const imports = new Map<string, string>();
  for (const [, name, from] of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    const path = from!.startsWith(".")
      ? join(dirname(file), from!.replace(/\.js$/, ".d.ts"))
      : declarationOf(from!);
    imports.set(name!, path);
  }
  const match = /^export interface \w+(?: extends ([\w, ]+))? \{\n([\s\S]*?)^\}/m.exec(text);
  let fields: Fields | undefined;
  if (match) {
    fields = { props: new Map() };
    // An interface that extends another (cert-manager's IssuerSpec) has its parent's fields.
    for (const parent of (match[1] ?? "").split(/,\s*/)) {
      const parentFile = imports.get(parent);
      const inherited = parentFile ? fieldsOf(parentFile) : undefined;
      for (const [name, ref] of inherited?.props ?? []) fields.props.set(name, ref);
    }
    for (const [, name, type] of match[2]!.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
      const ref = type!.startsWith("{") ? undefined : /\b(I\w+)\b/.exec(type!)?.[1];
      fields.props.set(name!, ref ? imports.get(ref) : undefined);
    }
  }
  declarations.set(file, fields);
  return fields;
}

function unknownFields(value: unknown, file: string | undefined, path: string, out: string[]) {
  if (file === undefined || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) unknownFields(item, file, `${path}/${i}`, out);
    return;
  }
  const fields = fieldsOf(file);
  if (!fields) return;
  for (const [key, child] of Object.entries(value)) {
    if (!fields.props.has(key)) out.push(`${path}/${key}: unknown field`);
    else unknownFields(child, fields.props.get(key), `${path}/${key}`, out);
  }
}

/** Every schema problem of `object`, as "PATH: message"; empty when it is valid. */
export async function schemaProblems(object: Record<string, unknown>): Promise<string[]> {
  const { apiVersion, kind } = object as { apiVersion?: string; kind?: string };
  if (typeof apiVersion !== "string" || typeof kind !== "string")
    return ["/: apiVersion and kind are required"];
  const module = modelModule(apiVersion, kind);
  let Model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    Model = (await import(module!))[kind];
  } catch {}
  if (!Model) return [`/: no schema for ${apiVersion} ${kind}`];
  const problems: string[] = [];
  try {
    new Model(object).validate();
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) problems.push(`/: ${String(error)}`);
    else for (const e of errors) problems.push(`${e.instancePath || "/"}: ${e.message}`);
  }
  unknownFields(object, declarationOf(module!), "", problems);
  return problems;
}
