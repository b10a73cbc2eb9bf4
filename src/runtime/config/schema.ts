import { z } from "zod";
import { logsConfigSchema } from "../../logs/logs-config.ts";
import { proxyConfigSchema } from "../../proxy/proxy-config.ts";
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

/**
 * The schema of sidecar.yaml: the runtime's sections plus one section per role.
 * Role sections are added here as roles arrive; each role owns its schema file.
 */
export const sidecarConfigSchema = z.strictObject({
  admin: adminConfigSchema,
  log: z
    .strictObject({
      level: logLevelSchema.default("info").describe("Log level; SIDECAR_LOG_LEVEL overrides it."),
    })
    .default({ level: "info" }),
  shutdown: z
    .strictObject({
      /** The whole graceful shutdown (drain, stop the app, flush) must end within this. */
      gracePeriodSeconds: seconds(30).describe(
        "The whole graceful shutdown (drain, stop the app, flush) must end within this.",
      ),
    })
    .default({ gracePeriodSeconds: 30 }),
  app: appConfigSchema,
  proxy: proxyConfigSchema.optional(),
  /** The logs role: tail, parse and ship the app's logs (see docs/logs.md). */
  logs: logsConfigSchema.optional(),
});

export type SidecarConfig = z.infer<typeof sidecarConfigSchema>;
export type SidecarConfigInput = z.input<typeof sidecarConfigSchema>;

/** The runtime's sections, validated: what every role may read through its context. */
export type RuntimeConfig = Pick<SidecarConfig, "admin" | "log" | "shutdown" | "app">;
