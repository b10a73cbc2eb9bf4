import { longRunningEnv } from "../runtime/command-env.ts";
import { defineRole } from "../runtime/role-definition.ts";
import { nodeCommand } from "./node-command.ts";

/**
 * The node agent: one per node (a DaemonSet), never part of `sidecar run`. Node metrics keep
 * node_exporter's names so existing dashboards and alerts work.
 */
export const nodeRoleDefinition = defineRole({
  name: "node",
  description:
    "The node agent (DaemonSet): node_exporter-compatible node metrics and every Pod's logs (see docs/node.md).",
  loadSchema: async () => (await import("./node-config.ts")).nodeConfigSchema,
  phase: "standalone",
  env: longRunningEnv,
  command: nodeCommand,
  create: async (section, ctx) => (await import("./node-role.ts")).createNodeRole(section, ctx),
});
