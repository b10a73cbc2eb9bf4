import { defineCollector, FamilyBuilder, readProc } from "../collector.ts";

/** USER_HZ: /proc/stat counts CPU time in 1/100 s on every Linux architecture node runs on. */
const userHz = 100;
const modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;

/**
 * node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total{cpu,mode} from the `cpuN`
 * lines of /proc/stat. Guest time is also counted in user and nice, as the kernel reports it.
 */
export const cpuCollector = defineCollector({
  name: "cpu",
  defaultEnabled: true,
  create: ({ paths }) => ({
    async collect() {
      const seconds = new FamilyBuilder(
        "node_cpu_seconds_total",
        "counter",
        "Seconds the CPUs spent in each mode.",
      );
      const guest = new FamilyBuilder(
        "node_cpu_guest_seconds_total",
        "counter",
        "Seconds the CPUs spent in guests (VMs) for each mode.",
      );
      for (const line of (await readProc(paths, "stat")).split("\n")) {
        const m = /^cpu(\d+)\s+(.*)$/.exec(line);
        if (!m) continue;
        const cpu = m[1]!;
        const ticks = m[2]!.trim().split(/\s+/).map(Number);
        modes.forEach((mode, i) => {
          seconds.add({ cpu, mode }, (ticks[i] ?? 0) / userHz);
        });
        guest.add({ cpu, mode: "user" }, (ticks[8] ?? 0) / userHz);
        guest.add({ cpu, mode: "nice" }, (ticks[9] ?? 0) / userHz);
      }
      return [seconds.family, guest.family];
    },
  }),
});
