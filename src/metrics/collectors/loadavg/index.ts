import { defineCollector, readProc, single } from "../collector.ts";

/** node_load1, node_load5 and node_load15 from /proc/loadavg. */
export const loadavgCollector = defineCollector({
  name: "loadavg",
  defaultEnabled: true,
  create: ({ paths }) => ({
    async collect() {
      const fields = (await readProc(paths, "loadavg")).trim().split(/\s+/).slice(0, 3).map(Number);
      if (fields.length < 3 || fields.some(Number.isNaN))
        throw new Error("unexpected /proc/loadavg content");
      return [1, 5, 15].map((minutes, i) =>
        single(`node_load${minutes}`, "gauge", `${minutes}m load average.`, fields[i]!),
      );
    },
  }),
});
