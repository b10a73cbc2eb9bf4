import { nodeCollectors } from "../metrics/collectors/index.ts";
import type { RoleCommand, RoleOption } from "../runtime/role-definition.ts";

/** node_exporter's flag → where it goes in the `node:` section. */
const valueFlags: [flag: string, path: string[], description: string][] = [
  ["path.procfs", ["procfs"], "the host's /proc (default /proc), e.g. /host/proc"],
  ["path.sysfs", ["sysfs"], "the host's /sys (default /sys), e.g. /host/sys"],
  ["path.rootfs", ["rootfs"], "the host's / (default /), e.g. /host/root"],
  ["path.udev.data", ["udevData"], "the udev database (default /run/udev/data)"],
  [
    "collector.filesystem.mount-points-exclude",
    ["filesystem", "mountPointsExclude"],
    "regexp of mount points to leave out",
  ],
  [
    "collector.filesystem.fs-types-exclude",
    ["filesystem", "fsTypesExclude"],
    "regexp of filesystem types to leave out",
  ],
  [
    "collector.diskstats.device-exclude",
    ["diskstats", "deviceExclude"],
    "regexp of disks to leave out",
  ],
  [
    "collector.diskstats.device-include",
    ["diskstats", "deviceInclude"],
    "regexp of the only disks to report",
  ],
  [
    "collector.netdev.device-exclude",
    ["netdev", "deviceExclude"],
    "regexp of network devices to leave out",
  ],
  [
    "collector.netdev.device-include",
    ["netdev", "deviceInclude"],
    "regexp of the only network devices to report",
  ],
  ["collector.textfile.directory", ["textfile", "directory"], "directory of *.prom files to serve"],
  ["collector.vmstat.fields", ["vmstat", "fields"], "regexp of /proc/vmstat fields to report"],
];

/** Commander's key for a flag: dots kept, dashes to camelCase. */
function attribute(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function set(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** The `node:` overlay node_exporter-style flags stand for; `{ node: {} }` without flags. */
export function nodeOverlay(flags: Record<string, unknown>): Record<string, unknown> {
  const node: Record<string, unknown> = {};
  for (const [flag, path] of valueFlags) {
    const value = flags[attribute(flag)];
    if (typeof value === "string") set(node, path, value);
  }
  const enable: string[] = [];
  const disable: string[] = [];
  for (const { name } of nodeCollectors) {
    const value = flags[`collector.${name}`];
    if (value === true) enable.push(name);
    if (value === false) disable.push(name);
  }
  if (flags["collector.disableDefaults"] === true)
    set(node, ["collectors", "disableDefaults"], true);
  if (enable.length) set(node, ["collectors", "enable"], enable);
  if (disable.length) set(node, ["collectors", "disable"], disable);
  return { node };
}

const collectorOptions: RoleOption[] = nodeCollectors.flatMap(({ name, defaultEnabled }) => [
  {
    flags: `--collector.${name}`,
    description: `enable the ${name} collector${defaultEnabled ? " (default: enabled)" : ""}`,
  },
  { flags: `--no-collector.${name}`, description: `disable the ${name} collector` },
]);

/** `sidecar node`: the node agent, with node_exporter's flags so its DaemonSet args carry over. */
export const nodeCommand: RoleCommand = {
  description:
    "node agent (DaemonSet): node_exporter-compatible node metrics on /metrics, and with a logs: section every Pod's logs",
  options: [
    ...valueFlags.map(([flag, , description]) => ({ flags: `--${flag} <value>`, description })),
    {
      flags: "--collector.disable-defaults",
      description: "start from no collector; enable each with --collector.<name>",
    },
    ...collectorOptions,
  ],
  examples: [
    "sidecar node --admin-address 0.0.0.0:9100",
    "sidecar node --path.procfs /host/proc --path.sysfs /host/sys --path.rootfs /host/root --no-collector.pressure",
  ],
  overlay: (flags) => nodeOverlay(flags),
  nothingToDo: "",
};
