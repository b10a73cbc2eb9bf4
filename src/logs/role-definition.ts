import { defineRole } from "../runtime/role-definition.ts";
import { logsCommand } from "./logs-command.ts";
import { logsConfigSchema } from "./logs-config.ts";
import { logsPanel } from "./logs-panel.ts";

/**
 * The logs role: tail, parse and ship the app's logs. It starts before the app and stops after
 * it, so the lines the app writes at shutdown are shipped.
 */
export const logsRoleDefinition = defineRole({
  name: "logs",
  description: "The logs role: tail, parse and ship the app's logs (see docs/logs.md).",
  schema: logsConfigSchema,
  phase: "before-app",
  command: logsCommand,
  // 16 MB semi-spaces: events wait in the buffer and in flight longer than two cycles of an 8 MB
  // young generation and were promoted: HTTP 97 → 132 MiB/s, 12.2 → 8.2 s CPU per GiB with 16 MB.
  v8Flags: ["--max-semi-space-size=16"],
  async create(section, ctx) {
    const { createLogsRole } = await import("./logs-role.ts");
    const now = () => ctx.clock.now();
    ctx.admin.panel(logsPanel(ctx.registry, now));
    return createLogsRole(section, { ...ctx, now });
  },
});
