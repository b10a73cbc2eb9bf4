import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Transform } from "../../log-event.ts";

const fieldValueSchema = z.union([z.string(), z.number(), z.boolean()]);

export const addFieldsSchema = z.strictObject({
  type: z.literal("add-fields"),
  /** Static fields, e.g. `{ cluster: "eu-1" }`; `${VAR}` in values is expanded by the config loader. */
  fields: z.record(z.string().min(1), fieldValueSchema).default({}),
  /** Fields read from the environment when the transform is built, e.g. `{ pod: "POD_NAME" }`. */
  fromEnv: z.record(z.string().min(1), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default({}),
  /** Replace a field the event already has (default true). */
  overwrite: z.boolean().default(true),
});
export type AddFieldsConfig = z.infer<typeof addFieldsSchema>;

export interface AddFieldsOptions {
  /** Where `fromEnv` reads; default process.env. */
  env?: Record<string, string | undefined>;
  /** Called once per `fromEnv` variable that is not set (the field is then left out). */
  onMissing?: (variable: string) => void;
}

/**
 * Adds fields to every event: static ones and ones from the environment (the Downward API's
 * POD_NAME, POD_NAMESPACE, NODE_NAME…). Values are read once, at build time.
 *
 * @example
 * addFields({ type: "add-fields", fields: { cluster: "eu-1" }, fromEnv: { pod: "POD_NAME" }, overwrite: true });
 */
export function addFields(
  config: AddFieldsConfig,
  { env = process.env, onMissing }: AddFieldsOptions = {},
): Transform {
  const added: Record<string, unknown> = { ...config.fields };
  for (const [field, variable] of Object.entries(config.fromEnv)) {
    const value = env[variable];
    if (value === undefined) onMissing?.(variable);
    else added[field] = value;
  }
  const entries = Object.entries(added);
  return function addFieldsTransform(event) {
    for (const [key, value] of entries)
      if (config.overwrite || !(key in event.fields)) event.fields[key] = value;
    return event;
  };
}

export const addFieldsTransform = defineComponent({
  type: "add-fields",
  schema: addFieldsSchema,
  build: (config, ctx) =>
    addFields(config, {
      onMissing: (variable) =>
        ctx.logger.warn(
          { variable },
          `Environment variable "${variable}" is not set: field left out`,
        ),
    }),
});
