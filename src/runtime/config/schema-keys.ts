import type { z } from "zod";

type AnySchema = z.core.$ZodType;

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema };
    if (
      def.innerType &&
      ["default", "optional", "nullable", "prefault", "catch", "readonly", "nonoptional"].includes(
        def.type,
      )
    ) {
      current = def.innerType;
    } else if (def.type === "pipe") {
      current = (def as unknown as { in: AnySchema }).in;
    } else {
      return current;
    }
  }
}

function childSchemas(schema: AnySchema, key: PropertyKey): AnySchema[] {
  const inner = unwrap(schema);
  const def = inner._zod.def as unknown as {
    type: string;
    shape?: Record<string, AnySchema>;
    element?: AnySchema;
    valueType?: AnySchema;
    options?: AnySchema[];
  };
  switch (def.type) {
    case "object":
      return def.shape && typeof key === "string" && key in def.shape ? [def.shape[key]!] : [];
    case "array":
      return def.element ? [def.element] : [];
    case "record":
      return def.valueType ? [def.valueType] : [];
    case "union":
      return (def.options ?? []).flatMap((option) => childSchemas(option, key));
    default:
      return [];
  }
}

function objectKeys(schema: AnySchema): string[] {
  const inner = unwrap(schema);
  const def = inner._zod.def as unknown as { type: string; shape?: object; options?: AnySchema[] };
  if (def.type === "object") return Object.keys(def.shape ?? {});
  if (def.type === "union") return (def.options ?? []).flatMap(objectKeys);
  return [];
}

/** The keys a mapping at `path` may have, for did-you-mean hints on unknown keys. */
export function allowedKeysAt(root: AnySchema, path: readonly PropertyKey[]): string[] {
  let schemas = [root];
  for (const key of path) schemas = schemas.flatMap((schema) => childSchemas(schema, key));
  return [...new Set(schemas.flatMap(objectKeys))];
}
