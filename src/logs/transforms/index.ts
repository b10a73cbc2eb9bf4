import { addFieldsTransform } from "./add-fields/index.ts";
import { dropTransform } from "./drop/index.ts";
import { fieldsFromPathTransform } from "./fields-from-path/index.ts";
import { redactTransform } from "./redact/index.ts";

/**
 * Every transform component (composed into a discriminated union on `type` by the logs config).
 * A built transform returns the event, or null to drop it (the pipeline counts drops).
 */
export const transformComponents = [
  addFieldsTransform,
  dropTransform,
  fieldsFromPathTransform,
  redactTransform,
] as const;

export type TransformType = (typeof transformComponents)[number]["type"];
