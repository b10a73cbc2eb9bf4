import { defineRole } from "../runtime/role-definition.ts";
import { metricsCommand } from "./metrics-command.ts";
import { metricsConfigSchema } from "./metrics-config.ts";

/**
 * Metrics merge. Before the app: it holds no traffic, and from the first scrape to the last
 * the merged endpoint reports the app's absence (sidecar_app_scrape_up 0) while the app starts
 * and stops, rather than the endpoint itself being missing.
 */
export const metricsRoleDefinition = defineRole({
  name: "metrics",
  description:
    "Metrics merge: the app's Prometheus metrics on the sidecar's /metrics (see docs/metrics.md).",
  schema: metricsConfigSchema,
  phase: "before-app",
  command: metricsCommand,
  create: async (section, ctx) =>
    (await import("./metrics-role.ts")).createMetricsRole(section, ctx),
});
