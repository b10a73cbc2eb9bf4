import type { Path } from "./pod-operations.ts";

/** Where each workload kind keeps its Pod template. */
const templatePaths: Record<string, Path> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

export const injectableKinds = Object.keys(templatePaths);

/** One Pod template found in a document: where it is, and the kind and name that hold it. */
export interface FoundTemplate {
  path: Path;
  kind: string;
  name: string;
}

function get(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/**
 * Every object of a document: the document itself, or each item of a `List` (`kind: List`,
 * `PodList`, …), with the path to it.
 */
export function objectsOf(
  document: unknown,
  base: Path = [],
): { path: Path; object: Record<string, unknown> }[] {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return [];
  const object = document as Record<string, unknown>;
  if (
    typeof object.kind === "string" &&
    object.kind.endsWith("List") &&
    Array.isArray(object.items)
  )
    return object.items.flatMap((item, i) => objectsOf(item, [...base, "items", i]));
  return [{ path: base, object }];
}

/** The Pod template of a workload object, or undefined for a kind without one. */
export function templateOf(object: Record<string, unknown>, base: Path): FoundTemplate | undefined {
  const kind = String(object.kind ?? "");
  const path = templatePaths[kind];
  if (!path) return undefined;
  const template = get(object, path);
  if (template === null || typeof template !== "object" || !("spec" in template)) return undefined;
  const metadata = object.metadata as { name?: unknown } | undefined;
  return { path: [...base, ...path], kind, name: String(metadata?.name ?? "(unnamed)") };
}

export { get as valueAt };
