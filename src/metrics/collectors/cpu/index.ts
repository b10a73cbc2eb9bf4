import { defineCollector, FamilyBuilder, readProc } from "../collector.ts";

/** USER_HZ: /proc/stat counts CPU time in 1/100 s on every Linux architecture node runs on. */
const userHz = 100;
const modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
/** Idle time going back this far means the CPU went offline and came back: start it afresh. */
const hotplugJumpSeconds = 3;

/**
 * node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total{cpu,mode} from the `cpuN`
 * lines of /proc/stat. Guest time is also counted in user and nice, as the kernel reports it.
 * Some kernels let a CPU's counters step back a little (iowait notably): a counter must not, so
 * the last value is kept until it is passed, as node_exporter does; idle going back by seconds
 * means the CPU was unplugged and plugged again, and its counters start afresh.
 */
export const cpuCollector = defineCollector({
  name: "cpu",
  defaultEnabled: true,
  create: ({ paths }) => {
    const last = new Map<string, number[]>();
    return {
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
          const now = m[2]!
            .trim()
            .split(/\s+/)
            .map((t) => Number(t) / userHz);
          const before = last.get(cpu);
          const values =
            before && (before[3] ?? 0) - (now[3] ?? 0) < hotplugJumpSeconds
              ? now.map((value, i) => Math.max(value, before[i] ?? 0))
              : now;
          last.set(cpu, values);
          modes.forEach((mode, i) => {
            seconds.add({ cpu, mode }, values[i] ?? 0);
          });
          guest.add({ cpu, mode: "user" }, values[8] ?? 0);
          guest.add({ cpu, mode: "nice" }, values[9] ?? 0);
        }
        return [seconds.family, guest.family];
      },
    };
  },
});
