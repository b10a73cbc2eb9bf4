import { defineRole } from "../runtime/role-definition.ts";
import { syncCommand } from "./sync-command.ts";

/**
 * The sync role: back the app's data directory up to a directory or S3, incrementally, and
 * restore it before the app starts. It starts before the app (restore) and stops after it
 * (final sync), so what the app wrote last is backed up.
 */
export const syncRoleDefinition = defineRole({
  name: "sync",
  description:
    "The sync role: back the data directory up to a directory or S3 and restore it (see docs/sync.md).",
  loadSchema: async () => (await import("./sync-config.ts")).syncConfigSchema,
  phase: "before-app",
  command: syncCommand,
  // A pass fdatasyncs every object it copies (10 000 small files: 10 000 fdatasyncs), in a
  // batch before its manifest; libuv's default pool of 4 threads runs 4 at a time (~1 s,
  // rclone's whole first sync in bench:sync), 16 overlap them (bench:sync's first sync, same
  // load: 12.9 → 10.0 s). 12 more idle threads cost ~0.2 MiB of RSS.
  env: { UV_THREADPOOL_SIZE: "16" },
  create: async (section, ctx) => (await import("./sync-role.ts")).createSyncRole(section, ctx),
});
