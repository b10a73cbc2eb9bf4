import { defineRole } from "../runtime/role-definition.ts";
import { syncCommand } from "./sync-command.ts";
import { syncConfigSchema } from "./sync-config.ts";

/**
 * The sync role: back the app's data directory up to a directory or S3, incrementally, and
 * restore it before the app starts. It starts before the app (restore) and stops after it
 * (final sync), so what the app wrote last is backed up.
 */
export const syncRoleDefinition = defineRole({
  name: "sync",
  description:
    "The sync role: back the data directory up to a directory or S3 and restore it (see docs/sync.md).",
  schema: syncConfigSchema,
  phase: "before-app",
  command: syncCommand,
  create: async (section, ctx) => (await import("./sync-role.ts")).createSyncRole(section, ctx),
});
