import { type Document, isCollection, isSeq, Parser, parseAllDocuments, type YAMLSeq } from "yaml";
import { Annotations } from "./annotations.ts";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";
import { type InjectFlags, resolveInjectOptions } from "./inject-options.ts";
import type { InjectionTemplate } from "./injection-template.ts";
import { type PodTemplate, planInjection, planUninjection } from "./plan-injection.ts";
import type { Path, PodOperation } from "./pod-operations.ts";
import { injectableKinds, objectsOf, templateOf, valueAt } from "./pod-templates.ts";

/** The largest input `sidecar inject` reads (hostile inputs must not take the memory). */
export const maxInputBytes = 32 * 1024 * 1024;

export interface InjectRequest {
  text: string;
  /** The input's name in messages (a file path, or "stdin"). */
  source: string;
  mode: "inject" | "uninject";
  flags: InjectFlags;
  template: InjectionTemplate;
  version: string;
  /** Warn and pass through a document of an unsupported kind that asks for injection. */
  skipUnsupported?: boolean;
  warn?: (message: string) => void;
}

export interface InjectResult {
  text: string;
  /** Pod templates changed, as `Kind/name`. */
  changed: string[];
}

function parseDocuments(text: string, source: string): Document.Parsed[] {
  if (Buffer.byteLength(text) > maxInputBytes)
    throw injectError(
      InjectErrorCodes.YAML,
      `${source}: ${Buffer.byteLength(text)} bytes is more than the ${maxInputBytes / 1024 / 1024} MiB sidecar inject reads`,
    );
  const documents = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(documents)) return []; // an empty stream
  for (const [i, doc] of documents.entries()) {
    const error = doc.errors[0];
    if (error)
      throw injectError(
        InjectErrorCodes.YAML,
        `${source} (document ${i + 1}): ${error.message.split("\n")[0]}`,
      );
  }
  return documents;
}

function plainValue(doc: Document.Parsed, source: string, index: number): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw injectError(
      InjectErrorCodes.YAML,
      `${source} (document ${index + 1}): ${(error as Error).message.split("\n")[0]}`,
      error,
    );
  }
}

/** Applies the operations to the YAML document under `base`, touching nothing else. */
function applyToDocument(
  doc: Document.Parsed,
  base: Path,
  operations: readonly PodOperation[],
): void {
  for (const operation of operations) {
    const path = [...base, ...operation.path];
    switch (operation.op) {
      case "add":
      case "replace":
        blockStyleFor(doc, path.slice(0, -1), operation.value);
        doc.setIn(path, doc.createNode(operation.value));
        break;
      case "insert": {
        const seq = doc.getIn(path, true);
        if (!isSeq(seq)) throw new TypeError(`Not a sequence at ${path.join(".")}`);
        blockStyleFor(doc, path, operation.value);
        const items = (seq as YAMLSeq).items;
        items.splice(
          operation.index < 0 ? items.length : operation.index,
          0,
          doc.createNode(operation.value),
        );
        break;
      }
      case "remove":
        doc.deleteIn(path);
        break;
    }
  }
}

/**
 * A flow collection (`[{ name: app }]`) that receives a mapping or a list becomes block style,
 * so an added container reads as one; scalars go in as they are.
 */
function blockStyleFor(doc: Document.Parsed, path: Path, value: unknown): void {
  if (value === null || typeof value !== "object") return;
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isCollection(node) && node.flow) node.flow = false;
  }
}

function annotationsOf(object: unknown): Record<string, string> {
  const annotations = valueAt(object, ["metadata", "annotations"]);
  return annotations && typeof annotations === "object"
    ? (annotations as Record<string, string>)
    : {};
}

/**
 * Injects into (or takes out of) every Pod template of every document: Pods, Deployments,
 * StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, and those in Lists. Other documents
 * pass through unchanged; so do comments, key order and formatting of untouched parts. Either
 * every document is processed or the whole call throws: never a half-injected output.
 */
export function injectDocuments(request: InjectRequest): InjectResult {
  const documents = parseDocuments(request.text, request.source);
  const changed: string[] = [];
  const changedDocuments = new Set<number>();
  documents.forEach((doc, index) => {
    const value = plainValue(doc, request.source, index);
    for (const { path, object } of objectsOf(value)) {
      const kind = String(object.kind ?? "");
      const name = String(valueAt(object, ["metadata", "name"]) ?? "(unnamed)");
      const where = `${request.source}: ${kind || "(no kind)"}/${name}`;
      const found = templateOf(object, path);
      const workloadAnnotations = annotationsOf(object);
      if (!found) {
        if (request.mode === "inject" && workloadAnnotations[Annotations.inject] === "true") {
          const message = `${where}: kind ${kind || "(none)"} has no Pod template to inject into (supported: ${injectableKinds.join(", ")})`;
          if (!request.skipUnsupported) throw injectError(InjectErrorCodes.UNSUPPORTED, message);
          request.warn?.(`${message}; passed through unchanged`);
        }
        continue;
      }
      const pod = valueAt(value, found.path) as PodTemplate;
      const annotations = { ...workloadAnnotations, ...annotationsOf(pod) };
      const templateWhere = `${where}${found.path.length > path.length ? ` ${found.path.slice(path.length).join(".")}` : ""}`;
      let operations: PodOperation[];
      if (request.mode === "uninject") operations = planUninjection(pod, templateWhere);
      else {
        if (annotations[Annotations.inject] === "false") continue;
        const options = resolveInjectOptions(request.flags, annotations, templateWhere);
        operations = planInjection(pod, options, request.template, {
          kind: found.kind,
          where: templateWhere,
          version: request.version,
        });
      }
      if (operations.length === 0) continue;
      applyToDocument(doc, found.path, operations);
      changed.push(`${found.kind}/${found.name}`);
      changedDocuments.add(index);
    }
  });
  // A document nothing was done to is written back as it was read, byte for byte.
  const sources = documentSources(request.text, documents.length);
  const text = documents
    .map((doc, i) =>
      changedDocuments.has(i) || sources === undefined
        ? doc.toString({ lineWidth: 0 })
        : sources[i],
    )
    .join("");
  return { text, changed };
}

/** The source text of each document (leading comments with the first), or undefined if unsure. */
function documentSources(text: string, count: number): string[] | undefined {
  const starts: number[] = [];
  for (const token of new Parser().parse(text))
    if (token.type === "document") starts.push(token.offset);
  if (starts.length !== count) return undefined;
  if (starts.length > 0) starts[0] = 0;
  return starts.map((start, i) => text.slice(start, starts[i + 1] ?? text.length));
}
