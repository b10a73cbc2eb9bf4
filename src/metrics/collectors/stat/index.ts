import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { defineCollector, readProc, single } from "../collector.ts";

/**
 * Kernel and system statistics from /proc/stat: boot time, interrupts, context switches,
 * forks and running/blocked processes, under node_exporter's names.
 */
export const statCollector = defineCollector({
  name: "stat",
  defaultEnabled: true,
  create: ({ paths }) => ({
    async collect() {
      const fields = new Map<string, string>();
      for (const line of (await readProc(paths, "stat")).split("\n")) {
        const space = line.indexOf(" ");
        if (space > 0) fields.set(line.slice(0, space), line.slice(space + 1).trim());
      }
      const num = (key: string) => Number((fields.get(key) ?? "").split(/\s+/)[0]);
      const families: MetricFamily[] = [];
      const add = (key: string, name: string, type: "counter" | "gauge", help: string) => {
        if (fields.has(key)) families.push(single(name, type, help, num(key)));
      };
      add("intr", "node_intr_total", "counter", "Total number of interrupts serviced.");
      add("ctxt", "node_context_switches_total", "counter", "Total number of context switches.");
      add("btime", "node_boot_time_seconds", "gauge", "Node boot time, in unixtime.");
      add("processes", "node_forks_total", "counter", "Total number of forks.");
      add("procs_running", "node_procs_running", "gauge", "Number of processes in runnable state.");
      add(
        "procs_blocked",
        "node_procs_blocked",
        "gauge",
        "Number of processes blocked waiting for I/O to complete.",
      );
      return families;
    },
  }),
});
