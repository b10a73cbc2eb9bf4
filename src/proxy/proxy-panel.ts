import type { StatusPanel } from "../runtime/admin/admin-router.ts";
import {
  formatNumber,
  quantileBy,
  RateMeter,
  readSamples,
  sumBy,
} from "../runtime/admin/metric-figures.ts";
import type { Registry } from "../runtime/telemetry/metrics-registry.ts";

/**
 * The proxy's status-page panel: per listener, requests per second (since the last render),
 * 5xx responses and the p99 duration, read from the same series as /metrics.
 */
export function proxyPanel(
  registry: Registry,
  listeners: readonly string[],
  now?: () => number,
): StatusPanel {
  const meter = new RateMeter(now);
  return {
    role: "proxy",
    async figures() {
      const requests = await readSamples(registry, "sidecar_proxy_requests_total");
      const total = sumBy(requests, "listener");
      const errors = sumBy(
        requests.filter((s) => s.labels.status_class === "5xx"),
        "listener",
      );
      const p99 = quantileBy(
        await readSamples(registry, "sidecar_proxy_request_duration_seconds"),
        "listener",
        0.99,
      );
      return listeners.flatMap((listener) => {
        const count = total.get(listener) ?? 0;
        const p99Seconds = p99.get(listener);
        return [
          { label: `${listener}: requests/s`, value: formatNumber(meter.rate(listener, count)) },
          {
            label: `${listener}: 5xx`,
            value: formatNumber(errors.get(listener) ?? 0),
            warn: (errors.get(listener) ?? 0) > 0,
          },
          {
            label: `${listener}: p99`,
            value: p99Seconds === undefined ? "–" : formatNumber(p99Seconds * 1000, " ms"),
          },
        ];
      });
    },
  };
}
