import { transformConfigSchema } from "../logs/logs-config.ts";
import { createLogsRole, type LogsRole } from "../logs/logs-role.ts";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { Role } from "../runtime/role.ts";
import type { RoleContext } from "../runtime/role-definition.ts";
import { enabledCollectors, type NodeConfig } from "./node-config.ts";
import { NodeMetrics } from "./node-metrics.ts";

/**
 * The path of a kubelet pod log, `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log`
 * (or a rotated `<n>.log.<timestamp>`), as fields.
 */
export const podLogPathPattern =
  "/(?<namespace>[^_/]+)_(?<pod>[^_/]+)_(?<pod_uid>[^_/]+)/(?<container>[^/]+)/[^/]+$";

export interface NodeRole extends Role {
  readonly metrics: NodeMetrics;
  readonly logs: LogsRole | undefined;
}

/**
 * The node agent (`sidecar node`, a DaemonSet): node metrics as node_exporter names them,
 * served on the admin server's /metrics, and with a `logs:` section every Pod's logs on the
 * node with namespace, pod, pod_uid, container and node added to each event.
 */
export function createNodeRole(config: NodeConfig, ctx: RoleContext): NodeRole {
  if (config.logs && (ctx.config as Record<string, unknown>).logs !== undefined)
    throw new SidecarError(
      ErrorCodes.CONFIG_INVALID,
      "node.logs and logs are both set: one process runs one logs pipeline; move the sources into node.logs (or run sidecar logs separately)",
    );
  const metrics = new NodeMetrics(enabledCollectors(config.collectors), {
    paths: {
      procfs: config.procfs,
      sysfs: config.sysfs,
      rootfs: config.rootfs,
      udevData: config.udevData,
    },
    options: {
      filesystem: config.filesystem,
      diskstats: config.diskstats,
      netdev: config.netdev,
      textfile: config.textfile,
      vmstat: config.vmstat,
    },
    logger: ctx.logger,
    now: () => ctx.clock.now(),
  });
  ctx.admin.metrics({ name: "node", collect: () => metrics.collect() });
  ctx.admin.panel({
    role: "node",
    figures: () => {
      const last = metrics.lastScrape;
      const failed = last.filter((c) => !c.ok).map((c) => c.name);
      return [
        { label: "collectors", value: String(last.length) },
        {
          label: "failed",
          value: failed.length ? failed.join(", ") : "none",
          warn: failed.length > 0,
        },
        {
          label: "last scrape ms",
          value: (Math.max(0, ...last.map((c) => c.durationSeconds)) * 1000).toFixed(1),
        },
      ];
    },
  });
  const logs = config.logs
    ? createLogsRole(
        {
          ...config.logs,
          transforms: [
            transformConfigSchema.parse({ type: "fields-from-path", pattern: podLogPathPattern }),
            transformConfigSchema.parse({ type: "add-fields", fromEnv: { node: "NODE_NAME" } }),
            ...config.logs.transforms,
          ],
        },
        { logger: ctx.logger, registry: ctx.registry, now: () => ctx.clock.now() },
      )
    : undefined;
  let running = false;
  return {
    name: "node",
    metrics,
    logs,
    async start() {
      await logs?.start();
      running = true;
    },
    ready: () => running && (logs?.ready() ?? true),
    notReadyReason: () => (running ? logs?.notReadyReason?.() : "not started"),
    async stop(deadline) {
      running = false;
      await logs?.stop(deadline);
    },
  };
}
