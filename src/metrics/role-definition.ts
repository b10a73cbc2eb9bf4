import { longRunningEnv } from "../runtime/command-env.ts";
import { defineRole } from "../runtime/role-definition.ts";
import { metricsCommand } from "./metrics-command.ts";

/**
 * Metrics merge. Before the app: it holds no traffic, and from the first scrape to the last
 * the merged endpoint reports the app's absence (sidecar_app_scrape_up 0) while the app starts
 * and stops, rather than the endpoint itself being missing.
 */
export const metricsRoleDefinition = defineRole({
  name: "metrics",
  description:
    "Metrics merge: the app's Prometheus metrics on the sidecar's /metrics (see docs/metrics.md).",
  loadSchema: async () => (await import("./metrics-config.ts")).metricsConfigSchema,
  phase: "before-app",
  env: longRunningEnv,
  command: metricsCommand,
  create: async (section, ctx) =>
    (await import("./metrics-role.ts")).createMetricsRole(section, ctx),
});
