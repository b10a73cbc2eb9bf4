import { longRunningEnv } from "../runtime/command-env.ts";
import { defineRole } from "../runtime/role-definition.ts";
import { configCommand } from "./config-command.ts";

/**
 * The config role as a plug-in: the `config:` section, `sidecar config`, and a phase before the
 * app, so `sidecar run` starts the app only once its config is published.
 */
export const configRoleDefinition = defineRole({
  name: "config",
  description: "fetch, render, validate and atomically publish the app's config, then notify it",
  loadSchema: async () => (await import("./config-section.ts")).configSectionSchema,
  phase: "before-app",
  env: longRunningEnv,
  command: configCommand,
  create: async (section, ctx) => (await import("./config-role.ts")).createConfigRole(section, ctx),
});
