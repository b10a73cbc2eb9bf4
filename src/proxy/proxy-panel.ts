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
 * 5xx responses and the p99 duration; refused authentication/authorization attempts and the
 * days until the soonest TLS certificate expires, where there are any. Read from the same
 * series as /metrics (counts and dates only, never a credential).
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
      const denied = sumBy(
        await readSamples(registry, "sidecar_proxy_auth_denied_total"),
        "listener",
      );
      const expiry = new Map<string, number>();
      for (const sample of await readSamples(
        registry,
        "sidecar_proxy_tls_certificate_expiry_timestamp_seconds",
      )) {
        const listener = String(sample.labels.listener ?? "");
        expiry.set(
          listener,
          Math.min(expiry.get(listener) ?? Number.POSITIVE_INFINITY, sample.value),
        );
      }
      const nowSeconds = Date.now() / 1000;
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
          ...(denied.has(listener)
            ? [{ label: `${listener}: auth refused`, value: formatNumber(denied.get(listener)) }]
            : []),
          ...(expiry.has(listener)
            ? [
                {
                  label: `${listener}: certificate expires in`,
                  value: formatNumber(
                    Math.floor((expiry.get(listener)! - nowSeconds) / 86_400),
                    " d",
                  ),
                  warn: expiry.get(listener)! - nowSeconds < 14 * 86_400,
                },
              ]
            : []),
        ];
      });
    },
  };
}
