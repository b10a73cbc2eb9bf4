import { collectDefaultMetrics, Gauge, Registry } from "prom-client";

export { Counter, Gauge, Histogram, type Registry } from "prom-client";

const lintFailingDefaults = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export interface SidecarRegistryOptions {
  version: string;
  /** Include process_* and nodejs_* metrics (default true). */
  processMetrics?: boolean;
  now?: () => number;
}

export interface SidecarRegistry {
  registry: Registry;
  /** Where sidecar_role_up{role} reads each role's up-ness at scrape time. */
  setRoleSource(source: () => Iterable<{ name: string; ready: boolean }>): void;
}

/**
 * The one Prometheus registry every role registers in, with the runtime's own metrics:
 * sidecar_build_info, sidecar_uptime_seconds, sidecar_role_up and process metrics.
 */
export function createSidecarRegistry({
  version,
  processMetrics = true,
  now = () => performance.now(),
}: SidecarRegistryOptions): SidecarRegistry {
  const registry = new Registry();
  const startedAt = now();
  new Gauge({
    name: "sidecar_build_info",
    help: "Build information of the sidecar; the value is always 1.",
    labelNames: ["version", "node_version"],
    registers: [registry],
  }).set({ version, node_version: process.version }, 1);
  new Gauge({
    name: "sidecar_uptime_seconds",
    help: "Seconds since the sidecar started.",
    registers: [registry],
    collect() {
      this.set((now() - startedAt) / 1000);
    },
  });
  let roleSource: () => Iterable<{ name: string; ready: boolean }> = () => [];
  new Gauge({
    name: "sidecar_role_up",
    help: "Whether each role is running and ready (1) or not (0).",
    labelNames: ["role"],
    registers: [registry],
    collect() {
      for (const role of roleSource()) this.set({ role: role.name }, role.ready ? 1 : 0);
    },
  });
  if (processMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total break Prometheus naming rules (promtool lint); the same
    // counts remain as nodejs_active_handles / _requests / _resources by type.
    for (const name of lintFailingDefaults) registry.removeSingleMetric(name);
  }
  return {
    registry,
    setRoleSource: (source) => {
      roleSource = source;
    },
  };
}
