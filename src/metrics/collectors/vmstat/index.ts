import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { defineCollector, readProc, single } from "../collector.ts";

/** node_exporter's default selection of /proc/vmstat fields. */
export const defaultVmstatFields = "^(oom_kill|pgpg|pswp|pg.*fault).*";

/** node_vmstat_<field> (untyped, as node_exporter has them) for the selected /proc/vmstat fields. */
export const vmstatCollector = defineCollector({
  name: "vmstat",
  defaultEnabled: true,
  create: ({ paths, options }) => {
    const pattern = new RegExp(options.vmstat.fields);
    return {
      async collect() {
        const families: MetricFamily[] = [];
        for (const line of (await readProc(paths, "vmstat")).split("\n")) {
          const [key, value] = line.split(" ");
          if (!key || value === undefined || !pattern.test(key)) continue;
          families.push(
            single(
              `node_vmstat_${key}`,
              "untyped",
              `/proc/vmstat information field ${key}.`,
              Number(value),
            ),
          );
        }
        return families;
      },
    };
  },
});
