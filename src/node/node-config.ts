import { z } from "zod";
import { logsConfigSchema, logsSourceConfigSchema } from "../logs/logs-config.ts";
import {
  defaultDiskDeviceExclude,
  defaultFsTypesExclude,
  defaultMountPointsExclude,
  defaultVmstatFields,
  nodeCollectors,
} from "../metrics/collectors/index.ts";

const regex = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: `invalid regular expression: ${(error as Error).message}`,
    });
  }
});

const collectorNames = nodeCollectors.map((c) => c.name) as [string, ...string[]];
const collectorName = z.enum(collectorNames);

/**
 * Where kubelet writes every container's log, `<namespace>_<pod>_<uid>/<container>/<n>.log`,
 * and its rotated names (`0.log.20261127-100000`), so a file rotated while the agent was down is
 * still read to its end; kubelet's compressed ones (`.gz`) are not read.
 */
export const podLogsGlob = "/var/log/pods/*/*/*.log*";
export const podLogsExclude = ["*.gz", "*.tmp"];

/**
 * The node's logs: a `logs:` section as the logs role has it, whose sources default to every
 * Pod's CRI log files on the node.
 */
export const nodeLogsSchema = logsConfigSchema.extend({
  sources: z
    .array(logsSourceConfigSchema)
    .min(1, { error: "expected at least one source" })
    .prefault([
      {
        type: "file",
        name: "pods",
        include: [podLogsGlob],
        exclude: podLogsExclude,
        parser: { type: "cri" },
        // Live and rotated files of a few hundred pods; idle ones are closed above this.
        maxOpenFiles: 512,
      },
    ]),
});

/**
 * The `node:` section: node_exporter-compatible node metrics on /metrics, and (with `logs:`)
 * every Pod's logs on the node. Names follow node_exporter's flags.
 *
 * @example
 * node:
 *   procfs: /host/proc
 *   sysfs: /host/sys
 *   rootfs: /host/root
 *   collectors: { disable: [pressure] }
 *   textfile: { directory: /var/lib/node-metrics }
 */
export const nodeConfigSchema = z.strictObject({
  /** The host's /proc (mount it read-only in the DaemonSet, e.g. at /host/proc). */
  procfs: z.string().min(1).default("/proc"),
  sysfs: z.string().min(1).default("/sys"),
  /** The host's / (mount points are reported without this prefix). */
  rootfs: z.string().min(1).default("/"),
  /** The udev database, for node_disk_info's labels. */
  udevData: z.string().min(1).default("/run/udev/data"),
  collectors: z
    .strictObject({
      /** Start from no collector instead of the default ones. */
      disableDefaults: z.boolean().default(false),
      enable: z.array(collectorName).default([]),
      disable: z.array(collectorName).default([]),
    })
    .prefault({}),
  filesystem: z
    .strictObject({
      mountPointsExclude: regex.default(defaultMountPointsExclude),
      fsTypesExclude: regex.default(defaultFsTypesExclude),
      /** A statfs slower than this marks the mount stuck (device_error 1) until it answers. */
      mountTimeoutSeconds: z.number().positive().default(5),
    })
    .prefault({}),
  diskstats: z
    .strictObject({
      deviceExclude: regex.default(defaultDiskDeviceExclude),
      /** When set, only these devices (and deviceExclude is ignored). */
      deviceInclude: regex.optional(),
    })
    .prefault({}),
  netdev: z
    .strictObject({ deviceExclude: regex.optional(), deviceInclude: regex.optional() })
    .prefault({}),
  textfile: z
    .strictObject({
      /** A directory of `*.prom` files to serve; none by default. */
      directory: z.string().min(1).optional(),
    })
    .prefault({}),
  vmstat: z.strictObject({ fields: regex.default(defaultVmstatFields) }).prefault({}),
  /** Every Pod's logs on the node (see docs/node.md). */
  logs: nodeLogsSchema.optional(),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** The collectors a config enables, in node_exporter's order (alphabetical). */
export function enabledCollectors(config: NodeConfig["collectors"]): string[] {
  return nodeCollectors
    .filter((c) =>
      config.enable.includes(c.name)
        ? true
        : config.disable.includes(c.name)
          ? false
          : c.defaultEnabled && !config.disableDefaults,
    )
    .map((c) => c.name);
}
