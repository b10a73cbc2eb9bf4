import type { AccessLog } from "./access-log.ts";
import type { HistogramSeries } from "./batched-histogram.ts";
import type { DownstreamRequest } from "./downstream/downstream.ts";
import type { Exchange } from "./exchange.ts";
import { methodLabel, type ProxyMetrics } from "./proxy-metrics.ts";

interface Series {
  requests: { inc(value: number): void };
  duration: HistogramSeries;
  /** Requests counted since the last flush. */
  pending: number;
}

/** The methods' slots in a route's series (methodLabel's values). */
const methodSlots = new Map(
  ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER"].map(
    (m, i) => [m, i],
  ),
);
/** Status classes: "none" (no response), then "1xx" … "9xx" (a status is three digits). */
const classSlots = 10;

/** The series' status_class label of a status. */
function statusClass(status: number): string {
  return status === 0 ? "none" : `${String(status)[0]}xx`;
}

/** Turns each finished exchange of one listener into metrics and an access log line. */
export class RequestRecorder {
  readonly #listener: string;
  readonly #metrics: ProxyMetrics;
  readonly #accessLog: AccessLog | undefined;
  readonly #labels: { listener: string };

  constructor(listener: string, metrics: ProxyMetrics, accessLog: AccessLog | undefined) {
    this.#listener = listener;
    this.#metrics = metrics;
    this.#accessLog = accessLog;
    this.#labels = { listener };
    metrics.onCollect(() => this.#flush());
  }

  #bytesReceived = 0;
  #bytesSent = 0;

  /** Publishes the counts accumulated since the last flush to prom-client. */
  #flush(): void {
    for (const byCluster of this.#children.values())
      for (const slots of byCluster.values())
        for (const series of slots) {
          if (series === undefined || series.pending === 0) continue;
          series.requests.inc(series.pending);
          series.pending = 0;
        }
    if (this.#bytesReceived) this.#metrics.bytesReceived.inc(this.#labels, this.#bytesReceived);
    if (this.#bytesSent) this.#metrics.bytesSent.inc(this.#labels, this.#bytesSent);
    this.#bytesReceived = 0;
    this.#bytesSent = 0;
  }

  /** The series by route, then cluster, then method and status class slot. */
  readonly #children = new Map<string, Map<string, (Series | undefined)[]>>();

  /**
   * prom-client children per label set, found without building a key: hashing labels (or a
   * key string) per request is measurable.
   */
  #series(route: string, cluster: string, method: string, status: number): Series {
    let byCluster = this.#children.get(route);
    if (!byCluster) {
      byCluster = new Map();
      this.#children.set(route, byCluster);
    }
    let slots = byCluster.get(cluster);
    if (!slots) {
      slots = new Array(methodSlots.size * classSlots).fill(undefined);
      byCluster.set(cluster, slots);
    }
    const label = methodLabel(method);
    const slot = methodSlots.get(label)! * classSlots + (status === 0 ? 0 : (status / 100) | 0);
    let series = slots[slot];
    if (!series) {
      const metrics = this.#metrics;
      const listener = this.#listener;
      series = {
        requests: metrics.requests.labels({
          listener,
          route,
          cluster,
          method: label,
          status_class: statusClass(status),
        }),
        duration: metrics.duration.series({ listener, route, cluster }),
        pending: 0,
      };
      slots[slot] = series;
    }
    return series;
  }

  /** Counts the finished request in the metrics and writes its access log line. */
  record(req: DownstreamRequest, exchange: Exchange): void {
    const duration = performance.now() - exchange.startedAt;
    const route = exchange.route?.name ?? "";
    const cluster = exchange.cluster?.name ?? "";
    const series = this.#series(route, cluster, exchange.method, exchange.status);
    series.pending += 1;
    series.duration.observe(duration / 1000);
    this.#bytesReceived += exchange.bytesReceived;
    this.#bytesSent += exchange.bytesSent;
    const log = this.#accessLog;
    if (!log) return;
    const q = exchange.url.indexOf("?");
    if (log.excluded(q === -1 ? exchange.url : exchange.url.slice(0, q))) return;
    const header = (name: string) => {
      const v = req.headers[name];
      return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
    };
    log.write({
      start_time: new Date(exchange.startTime).toISOString(),
      method: exchange.method,
      path: exchange.url,
      protocol: exchange.protocol,
      status: exchange.status,
      response_flags: exchange.flags.length === 0 ? "-" : exchange.flags.join(","),
      bytes_received: exchange.bytesReceived,
      bytes_sent: exchange.bytesSent,
      duration_ms: Math.round(duration * 1000) / 1000,
      upstream_service_time_ms:
        exchange.upstreamTime === undefined
          ? null
          : Math.round(exchange.upstreamTime * 1000) / 1000,
      upstream_host: exchange.endpoint?.address ?? null,
      upstream_cluster: cluster || null,
      route: route || null,
      request_id: exchange.requestId,
      client_address: exchange.clientAddress,
      user_agent: header("user-agent"),
      authority: header("host"),
      x_forwarded_for: header("x-forwarded-for"),
    });
  }
}
