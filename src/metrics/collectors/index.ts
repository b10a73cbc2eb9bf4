import { cpuCollector } from "./cpu/index.ts";
import { diskstatsCollector } from "./diskstats/index.ts";
import { filesystemCollector } from "./filesystem/index.ts";
import { loadavgCollector } from "./loadavg/index.ts";
import { meminfoCollector } from "./meminfo/index.ts";
import { netdevCollector } from "./netdev/index.ts";
import { pressureCollector } from "./pressure/index.ts";
import { statCollector } from "./stat/index.ts";
import { textfileCollector } from "./textfile/index.ts";
import { timeCollector } from "./time/index.ts";
import { unameCollector } from "./uname/index.ts";
import { vmstatCollector } from "./vmstat/index.ts";

export {
  type CollectorContext,
  type CollectorDefinition,
  type CollectorOptions,
  type HostPaths,
  NoDataError,
  type NodeCollector,
} from "./collector.ts";
export { defaultDiskDeviceExclude } from "./diskstats/index.ts";
export { defaultFsTypesExclude, defaultMountPointsExclude } from "./filesystem/index.ts";
export { defaultVmstatFields } from "./vmstat/index.ts";

/**
 * The node collectors, named as node_exporter names them (`--collector.<name>`). This module
 * is the collectors' public entry point: the node role composes them from here.
 */
export const nodeCollectors = [
  cpuCollector,
  diskstatsCollector,
  filesystemCollector,
  loadavgCollector,
  meminfoCollector,
  netdevCollector,
  pressureCollector,
  statCollector,
  textfileCollector,
  timeCollector,
  unameCollector,
  vmstatCollector,
] as const;

export type CollectorName = (typeof nodeCollectors)[number]["name"];
