import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { defineCollector, NoDataError, readProc, single } from "../collector.ts";

/** [resource, PSI line, metric name, help] */
const series: [string, "some" | "full", string, string][] = [
  [
    "cpu",
    "some",
    "node_pressure_cpu_waiting_seconds_total",
    "Total time in seconds that processes have waited for CPU time",
  ],
  [
    "io",
    "some",
    "node_pressure_io_waiting_seconds_total",
    "Total time in seconds that processes have waited due to IO congestion",
  ],
  [
    "io",
    "full",
    "node_pressure_io_stalled_seconds_total",
    "Total time in seconds no process could make progress due to IO congestion",
  ],
  [
    "memory",
    "some",
    "node_pressure_memory_waiting_seconds_total",
    "Total time in seconds that processes have waited for memory",
  ],
  [
    "memory",
    "full",
    "node_pressure_memory_stalled_seconds_total",
    "Total time in seconds no process could make progress due to memory congestion",
  ],
];

/** Pressure stall information (PSI) from /proc/pressure/{cpu,io,memory}: total stall time. */
export const pressureCollector = defineCollector({
  name: "pressure",
  defaultEnabled: true,
  create: ({ paths }) => ({
    async collect() {
      const totals = new Map<string, number>();
      for (const resource of ["cpu", "io", "memory"]) {
        let text: string;
        try {
          text = await readProc(paths, "pressure", resource);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT")
            throw new NoDataError("pressure information is unavailable (kernel without PSI)");
          throw error;
        }
        for (const line of text.split("\n")) {
          const m = /^(some|full) .*total=(\d+)/.exec(line);
          if (m) totals.set(`${resource} ${m[1]}`, Number(m[2]) / 1e6);
        }
      }
      const families: MetricFamily[] = [];
      for (const [resource, kind, name, help] of series) {
        const total = totals.get(`${resource} ${kind}`);
        if (total !== undefined) families.push(single(name, "counter", help, total));
      }
      return families;
    },
  }),
});
