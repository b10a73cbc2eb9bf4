import { join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";
import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { defineCollector, FamilyBuilder, readSys, single } from "../collector.ts";

/** The short name of the local time zone at `date` ("UTC", "GMT+1", "PST"). */
function zoneName(date: Date): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date);
  return parts.find((part) => part.type === "timeZoneName")?.value ?? "UTC";
}

/**
 * node_time_seconds, node_time_zone_offset_seconds{time_zone} and the clock sources in
 * /sys/devices/system/clocksource.
 */
export const timeCollector = defineCollector({
  name: "time",
  defaultEnabled: true,
  create: ({ paths, now }) => ({
    async collect() {
      const date = new Date(now());
      const families: MetricFamily[] = [
        single(
          "node_time_seconds",
          "gauge",
          "System time in seconds since epoch (1970).",
          date.getTime() / 1000,
        ),
        new FamilyBuilder(
          "node_time_zone_offset_seconds",
          "gauge",
          "System time zone offset in seconds.",
        ).add({ time_zone: zoneName(date) }, -date.getTimezoneOffset() * 60).family,
      ];
      const available = new FamilyBuilder(
        "node_time_clocksource_available_info",
        "gauge",
        "Available clocksources read from '/sys/devices/system/clocksource'.",
      );
      const current = new FamilyBuilder(
        "node_time_clocksource_current_info",
        "gauge",
        "Current clocksource read from '/sys/devices/system/clocksource'.",
      );
      let entries: string[] = [];
      try {
        entries = await fs.promises.readdir(join(paths.sysfs, "devices/system/clocksource"));
      } catch {
        // No sysfs clocksource (a container without /sys): the time alone is reported.
      }
      for (const entry of entries.sort()) {
        const m = /^clocksource(\d+)$/.exec(entry);
        if (!m) continue;
        const dir = join("devices/system/clocksource", entry);
        const [avail, cur] = await Promise.all([
          readSys(paths, dir, "available_clocksource").catch(() => ""),
          readSys(paths, dir, "current_clocksource").catch(() => ""),
        ]);
        for (const clocksource of avail.trim().split(/\s+/).filter(Boolean))
          available.add({ clocksource, device: m[1]! }, 1);
        if (cur.trim()) current.add({ clocksource: cur.trim(), device: m[1]! }, 1);
      }
      for (const builder of [available, current])
        if (builder.family.samples.length > 0) families.push(builder.family);
      return families;
    },
  }),
});
