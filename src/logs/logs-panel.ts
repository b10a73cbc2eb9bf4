import type { StatusPanel } from "../runtime/admin/admin-router.ts";
import { formatNumber, RateMeter, readSamples } from "../runtime/admin/metric-figures.ts";
import type { Registry } from "../runtime/telemetry/metrics-registry.ts";

const sum = (values: readonly { value: number }[]) => values.reduce((a, s) => a + s.value, 0);

/**
 * The logs role's status-page panel: lines read per second (since the last render), bytes
 * behind the files' ends, and sink failures, read from the same series as /metrics.
 */
export function logsPanel(registry: Registry, now?: () => number): StatusPanel {
  const meter = new RateMeter(now);
  return {
    role: "logs",
    async figures() {
      const lines = sum(await readSamples(registry, "sidecar_logs_lines_read_total"));
      const behind = sum(await readSamples(registry, "sidecar_logs_lag_bytes"));
      const failed = sum(await readSamples(registry, "sidecar_logs_sink_events_failed_total"));
      const retries = sum(await readSamples(registry, "sidecar_logs_sink_retries_total"));
      const buffered = sum(await readSamples(registry, "sidecar_logs_buffer_bytes"));
      return [
        { label: "lines/s", value: formatNumber(meter.rate("lines", lines)) },
        { label: "lines read", value: formatNumber(lines) },
        { label: "bytes behind", value: formatNumber(behind, " B"), warn: behind > 1 << 20 },
        { label: "bytes buffered", value: formatNumber(buffered, " B") },
        { label: "sink retries", value: formatNumber(retries), warn: retries > 0 },
        { label: "sink errors (events failed)", value: formatNumber(failed), warn: failed > 0 },
      ];
    },
  };
}
