/**
 * One change to a Pod template, in a form both the YAML document (`sidecar inject`, which
 * keeps comments and formatting) and a JSONPatch (the webhook) can apply, so the two cannot
 * drift: they apply the same list.
 */
export type PodOperation =
  /** Set a mapping key that is absent. */
  | { op: "add"; path: Path; value: unknown }
  /** Insert into a sequence at `index` (`-1`: append). */
  | { op: "insert"; path: Path; index: number; value: unknown }
  | { op: "replace"; path: Path; value: unknown }
  | { op: "remove"; path: Path };

export type Path = readonly (string | number)[];

type Json = Record<string, unknown> | unknown[];

function parentOf(root: unknown, path: Path): Json {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
  if (node === null || typeof node !== "object")
    throw new TypeError(`No container at /${path.slice(0, -1).join("/")}`);
  return node as Json;
}

/** Applies the operations to a plain JSON value, in place (the webhook's view of the Pod). */
export function applyToJson(root: unknown, operations: readonly PodOperation[]): void {
  for (const operation of operations) {
    const parent = parentOf(root, operation.path);
    const key = operation.path.at(-1)!;
    switch (operation.op) {
      case "add":
      case "replace":
        (parent as Record<string | number, unknown>)[key] = structuredClone(operation.value);
        break;
      case "insert": {
        const list = (parent as Record<string | number, unknown>)[key] as unknown[];
        const value = structuredClone(operation.value);
        if (operation.index < 0) list.push(value);
        else list.splice(operation.index, 0, value);
        break;
      }
      case "remove":
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete (parent as Record<string, unknown>)[key];
        break;
    }
  }
}

/** A JSON Pointer (RFC 6901) under `base`. */
function pointer(base: Path, path: Path): string {
  return [...base, ...path]
    .map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`)
    .join("");
}

/** The operations as an RFC 6902 JSONPatch on the object at `base` (e.g. a Pod: []). */
export function toJsonPatch(
  operations: readonly PodOperation[],
  base: Path = [],
): { op: "add" | "replace" | "remove"; path: string; value?: unknown }[] {
  return operations.map((operation) => {
    switch (operation.op) {
      case "add":
        return { op: "add", path: pointer(base, operation.path), value: operation.value };
      case "replace":
        return { op: "replace", path: pointer(base, operation.path), value: operation.value };
      case "insert":
        return {
          op: "add",
          path: pointer(base, [...operation.path, operation.index < 0 ? "-" : operation.index]),
          value: operation.value,
        };
      default:
        return { op: "remove", path: pointer(base, operation.path) };
    }
  });
}
