import { join } from "node:path";
import { fs } from "../../runtime/builtins.ts";
import type {
  Labels,
  MetricFamily,
  MetricType,
} from "../../runtime/telemetry/exposition/metric-family.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";

/** Where the host's filesystems are mounted (node_exporter's --path.* flags). */
export interface HostPaths {
  procfs: string;
  sysfs: string;
  rootfs: string;
  udevData: string;
}

/** Options of the collectors that have any (node_exporter's --collector.<name>.* flags). */
export interface CollectorOptions {
  filesystem: { mountPointsExclude: string; fsTypesExclude: string; mountTimeoutSeconds: number };
  diskstats: { deviceExclude: string; deviceInclude?: string | undefined };
  netdev: { deviceExclude?: string | undefined; deviceInclude?: string | undefined };
  textfile: { directory?: string | undefined };
  vmstat: { fields: string };
}

export interface CollectorContext {
  paths: HostPaths;
  options: CollectorOptions;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** One node collector, built once and collected at every scrape. */
export interface NodeCollector {
  /** Families now. Rejects when the collector cannot read its sources (reported, never fatal). */
  collect(): Promise<MetricFamily[]>;
}

/** A collector as node_exporter names it (`--collector.<name>`), enabled by default or not. */
export interface CollectorDefinition {
  readonly name: string;
  readonly defaultEnabled: boolean;
  create(ctx: CollectorContext): NodeCollector;
}

export function defineCollector(definition: CollectorDefinition): CollectorDefinition {
  return definition;
}

/** A collector found nothing to report (e.g. no /proc/pressure on this kernel). */
export class NoDataError extends Error {
  override readonly name = "NoDataError";
}

/** Builds one family sample by sample. */
export class FamilyBuilder {
  readonly family: MetricFamily;
  constructor(name: string, type: MetricType, help: string) {
    this.family = { name, type, help, samples: [] };
  }
  add(labels: Labels, value: number, sampleName = this.family.name): this {
    this.family.samples.push({ name: sampleName, labels, value });
    return this;
  }
}

/** A family with one unlabelled sample. */
export function single(name: string, type: MetricType, help: string, value: number): MetricFamily {
  return { name, type, help, samples: [{ name, labels: {}, value }] };
}

/** Reads a file under the procfs path, e.g. `procFile(paths, "stat")`. */
export function readProc(paths: HostPaths, ...parts: string[]): Promise<string> {
  return fs.promises.readFile(join(paths.procfs, ...parts), "utf8");
}

export function readSys(paths: HostPaths, ...parts: string[]): Promise<string> {
  return fs.promises.readFile(join(paths.sysfs, ...parts), "utf8");
}
