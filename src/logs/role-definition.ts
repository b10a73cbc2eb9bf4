import { longRunningEnv } from "../runtime/command-env.ts";
import { defineRole } from "../runtime/role-definition.ts";
import { logsCommand } from "./logs-command.ts";
import { logsPanel } from "./logs-panel.ts";

/**
 * The logs role: tail, parse and ship the app's logs. It starts before the app and stops after
 * it, so the lines the app writes at shutdown are shipped.
 */
export const logsRoleDefinition = defineRole({
  name: "logs",
  description: "The logs role: tail, parse and ship the app's logs (see docs/logs.md).",
  loadSchema: async () => (await import("./logs-config.ts")).logsConfigSchema,
  phase: "before-app",
  env: longRunningEnv,
  command: logsCommand,
  // 8 MB semi-spaces: the HTTP sink encodes a batch when it is cut, so events live for one batch
  // and die young in 8 MB as well; 16 MB only added RSS (3M lines → HTTP, peak 133–137 → 112–125
  // MiB at the same MiB/s). Before that change events waited in flight and 16 MB was needed.
  v8Flags: ["--max-semi-space-size=8"],
  async create(section, ctx) {
    const { createLogsRole } = await import("./logs-role.ts");
    const now = () => ctx.clock.now();
    ctx.admin.panel(logsPanel(ctx.registry, now));
    return createLogsRole(section, { ...ctx, now });
  },
});
