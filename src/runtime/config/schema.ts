import { z } from "zod";
import { adminConfigSchema } from "../admin/admin-config.ts";
import { appConfigSchema } from "../app/app-config.ts";
import { seconds } from "./schema-helpers.ts";

export const logLevelSchema = z.enum([
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
  "silent",
]);

/** The runtime's own sections of sidecar.yaml; each role adds its section (composeConfigSchema). */
export const runtimeConfigShape = {
  admin: adminConfigSchema,
  log: z
    .strictObject({
      level: logLevelSchema.default("info").describe("Log level; SIDECAR_LOG_LEVEL overrides it."),
      format: z
        .enum(["auto", "json", "pretty"])
        .default("auto")
        .describe(
          "auto: short readable lines when stderr is a terminal (local `sidecar run`), JSON lines otherwise; SIDECAR_LOG_FORMAT overrides it.",
        ),
    })
    .default({ level: "info", format: "auto" }),
  shutdown: z
    .strictObject({
      /** The whole graceful shutdown (drain, stop the app, flush) must end within this. */
      gracePeriodSeconds: seconds(30).describe(
        "The whole graceful shutdown (drain, stop the app, flush) must end within this.",
      ),
      whenFileExists: z
        .string()
        .min(1)
        .optional()
        .describe(
          "Shut down gracefully once this file exists: the app's container of a Job creates it when it ends (sidecar inject does this for classic sidecars).",
        ),
    })
    .default({ gracePeriodSeconds: 30 }),
  app: appConfigSchema,
};

export const runtimeConfigSchema = z.strictObject(runtimeConfigShape);

/** The runtime's sections, validated: what every role may read through its context. */
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** A role's config section: its name and how to load its schema (a RoleDefinition is one). */
export interface ConfigSection {
  readonly name: string;
  readonly description: string;
  /**
   * Imports the section's schema module and returns the schema. Lazy, so that a command builds
   * only the schemas of the sections its config has (building every role's costs ~13 MB of
   * heap and ~50 ms at each start).
   */
  loadSchema(): Promise<z.ZodType>;
}

/** Stands for a role section the config does not have: the key stays known (did-you-mean). */
const absentSection = z.never().optional();

/**
 * The schema of sidecar.yaml: the runtime's sections plus one optional section per role, in
 * the order given. The runtime knows no role: the CLI passes the list. With `present` (the
 * config's top-level keys), only the schemas of the role sections among them are loaded; the
 * others stay known keys that must be absent. Without it, every role's schema is loaded (the
 * JSON Schema, the docs).
 */
export async function composeConfigSchema(
  sections: readonly ConfigSection[],
  present?: Iterable<string>,
): Promise<z.ZodType<RuntimeConfig & Record<string, unknown>>> {
  const wanted = present === undefined ? undefined : new Set(present);
  const loaded = await Promise.all(
    sections.map(async (section) => ({
      name: section.name,
      description: section.description,
      schema:
        wanted === undefined || wanted.has(section.name) ? await section.loadSchema() : undefined,
    })),
  );
  return composeBuiltConfigSchema(loaded);
}

/**
 * composeConfigSchema for sections whose schemas are at hand; a section without one is a known
 * key that must be absent.
 */
export function composeBuiltConfigSchema(
  sections: readonly { name: string; description: string; schema: z.ZodType | undefined }[],
): z.ZodType<RuntimeConfig & Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = { ...runtimeConfigShape };
  for (const section of sections) {
    if (section.name in shape)
      throw new TypeError(`Config section "${section.name}" is declared twice`);
    shape[section.name] = section.schema
      ? section.schema.optional().describe(section.description)
      : absentSection;
  }
  return z.strictObject(shape) as unknown as z.ZodType<RuntimeConfig & Record<string, unknown>>;
}
