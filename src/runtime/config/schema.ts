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

/** A role's config section: its name and schema (a RoleDefinition is one). */
export interface ConfigSection {
  readonly name: string;
  readonly description: string;
  readonly schema: z.ZodType;
}

/**
 * The schema of sidecar.yaml: the runtime's sections plus one optional section per role, in
 * the order given. The runtime knows no role: the CLI passes the list.
 */
export function composeConfigSchema(sections: readonly ConfigSection[]) {
  const shape: Record<string, z.ZodType> = { ...runtimeConfigShape };
  for (const section of sections) {
    if (section.name in shape)
      throw new TypeError(`Config section "${section.name}" is declared twice`);
    shape[section.name] = section.schema.optional().describe(section.description);
  }
  return z.strictObject(shape) as unknown as z.ZodType<RuntimeConfig & Record<string, unknown>>;
}
