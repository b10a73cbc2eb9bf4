import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { defineCollector, readProc, single } from "../collector.ts";

/**
 * One gauge per /proc/meminfo field: `node_memory_<Field>_bytes` for fields in kB (converted
 * to bytes), `node_memory_<Field>` for counts; `Active(anon)` becomes `Active_anon`.
 */
export function parseMeminfo(text: string): MetricFamily[] {
  const families: MetricFamily[] = [];
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/\((.*)\)/, "_$1") + (m[3] ? "_bytes" : "");
    const value = Number(m[2]) * (m[3] ? 1024 : 1);
    const type = key.endsWith("_total") ? "counter" : "gauge";
    families.push(single(`node_memory_${key}`, type, `Memory information field ${key}.`, value));
  }
  return families;
}

export const meminfoCollector = defineCollector({
  name: "meminfo",
  defaultEnabled: true,
  create: ({ paths }) => ({
    async collect() {
      const families = parseMeminfo(await readProc(paths, "meminfo"));
      if (families.length === 0) throw new Error("no fields in /proc/meminfo");
      return families;
    },
  }),
});
