import { join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";
import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { defineCollector, FamilyBuilder, type HostPaths, readProc } from "../collector.ts";

/** node_exporter's default: partitions, RAM disks, loop and floppy devices are left out. */
export const defaultDiskDeviceExclude = "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";

const sector = 512;
const tick = 1 / 1000;

/** The /proc/diskstats fields after the device name, in order: [name, type, help, factor]. */
const fields: [string, "counter" | "gauge", string, number][] = [
  ["reads_completed_total", "counter", "The total number of reads completed successfully.", 1],
  ["reads_merged_total", "counter", "The total number of reads merged.", 1],
  ["read_bytes_total", "counter", "The total number of bytes read successfully.", sector],
  ["read_time_seconds_total", "counter", "The total number of seconds spent by all reads.", tick],
  ["writes_completed_total", "counter", "The total number of writes completed successfully.", 1],
  ["writes_merged_total", "counter", "The number of writes merged.", 1],
  ["written_bytes_total", "counter", "The total number of bytes written successfully.", sector],
  [
    "write_time_seconds_total",
    "counter",
    "This is the total number of seconds spent by all writes.",
    tick,
  ],
  ["io_now", "gauge", "The number of I/Os currently in progress.", 1],
  ["io_time_seconds_total", "counter", "Total seconds spent doing I/Os.", tick],
  [
    "io_time_weighted_seconds_total",
    "counter",
    "The weighted # of seconds spent doing I/Os.",
    tick,
  ],
  [
    "discards_completed_total",
    "counter",
    "The total number of discards completed successfully.",
    1,
  ],
  ["discards_merged_total", "counter", "The total number of discards merged.", 1],
  ["discarded_sectors_total", "counter", "The total number of sectors discarded successfully.", 1],
  [
    "discard_time_seconds_total",
    "counter",
    "This is the total number of seconds spent by all discards.",
    tick,
  ],
  [
    "flush_requests_total",
    "counter",
    "The total number of flush requests completed successfully",
    1,
  ],
  [
    "flush_requests_time_seconds_total",
    "counter",
    "This is the total number of seconds spent by all flush requests.",
    tick,
  ],
];

/** The udev database's `E:KEY=value` properties of a block device (empty when there is none). */
async function udevProperties(paths: HostPaths, major: string, minor: string) {
  const props = new Map<string, string>();
  try {
    const text = await fs.promises.readFile(join(paths.udevData, `b${major}:${minor}`), "utf8");
    for (const line of text.split("\n")) {
      const m = /^E:([^=]+)=(.*)$/.exec(line);
      if (m) props.set(m[1]!, m[2]!);
    }
  } catch {
    // No udev data (a container without /run/udev): the info labels stay empty.
  }
  return props;
}

/** node_disk_* from /proc/diskstats, with node_disk_info from the udev database. */
export const diskstatsCollector = defineCollector({
  name: "diskstats",
  defaultEnabled: true,
  create: ({ paths, options }) => {
    const include = options.diskstats.deviceInclude
      ? new RegExp(options.diskstats.deviceInclude)
      : undefined;
    const exclude = new RegExp(options.diskstats.deviceExclude);
    return {
      async collect() {
        const builders = fields.map(
          ([name, type, help]) => new FamilyBuilder(`node_disk_${name}`, type, help),
        );
        const info = new FamilyBuilder(
          "node_disk_info",
          "gauge",
          "Info of /sys/block/<block_device>.",
        );
        const fsInfo = new FamilyBuilder(
          "node_disk_filesystem_info",
          "gauge",
          "Info about disk filesystem.",
        );
        const dmInfo = new FamilyBuilder(
          "node_disk_device_mapper_info",
          "gauge",
          "Info about disk device mapper.",
        );
        for (const line of (await readProc(paths, "diskstats")).split("\n")) {
          const parts = line.trim().split(/\s+/);
          if (parts.length < 14) continue;
          const [major, minor, device] = parts as [string, string, string];
          if (include ? !include.test(device) : exclude.test(device)) continue;
          const props = await udevProperties(paths, major, minor);
          const prop = (key: string) => props.get(key) ?? "";
          info.add(
            {
              device,
              major,
              minor,
              model: prop("ID_MODEL"),
              path: prop("ID_PATH"),
              revision: prop("ID_REVISION"),
              serial: prop("ID_SERIAL_SHORT"),
              wwn: prop("ID_WWN"),
            },
            1,
          );
          if (props.has("ID_FS_TYPE"))
            fsInfo.add(
              {
                device,
                type: prop("ID_FS_TYPE"),
                usage: prop("ID_FS_USAGE"),
                uuid: prop("ID_FS_UUID"),
                version: prop("ID_FS_VERSION"),
              },
              1,
            );
          if (props.has("DM_NAME"))
            dmInfo.add(
              {
                device,
                lv_layer: prop("DM_LV_LAYER"),
                lv_name: prop("DM_LV_NAME"),
                name: prop("DM_NAME"),
                uuid: prop("DM_UUID"),
                vg_name: prop("DM_VG_NAME"),
              },
              1,
            );
          fields.forEach(([, , , factor], i) => {
            const raw = parts[3 + i];
            if (raw !== undefined) builders[i]!.add({ device }, Number(raw) * factor);
          });
        }
        const families: MetricFamily[] = [info.family, ...builders.map((b) => b.family)];
        for (const extra of [fsInfo, dmInfo])
          if (extra.family.samples.length > 0) families.push(extra.family);
        return families.filter((f) => f.samples.length > 0 || f.name === "node_disk_info");
      },
    };
  },
});
