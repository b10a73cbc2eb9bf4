import { Counter, Gauge, type Registry } from "../runtime/telemetry/metrics-registry.ts";
import { BatchedHistogram } from "./batched-histogram.ts";

const knownMethods = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "CONNECT",
  "TRACE",
]);

/** The method as a bounded label: the standard ones, else "OTHER". */
export function methodLabel(method: string): string {
  return knownMethods.has(method) ? method : "OTHER";
}

/** The proxy's metrics in the shared registry; every label is bounded by config or a fixed set. */
export class ProxyMetrics {
  readonly requests: Counter<"listener" | "route" | "cluster" | "method" | "status_class">;
  /** Observed per request through a series resolved once per label set (see BatchedHistogram). */
  readonly duration: BatchedHistogram<"listener" | "route" | "cluster">;
  readonly retries: Counter<"cluster">;
  readonly timeouts: Counter<"cluster">;
  readonly ejections: Counter<"cluster">;
  readonly overflows: Counter<"cluster">;
  readonly rateLimited: Counter<"listener">;
  readonly activeRequests: Gauge<"listener">;
  readonly activeConnections: Gauge<"listener">;
  readonly bytesReceived: Counter<"listener">;
  readonly bytesSent: Counter<"listener">;
  readonly drainClosed: Counter<"listener">;
  /** Refused authentication/authorization attempts; `reason` is a short fixed word, never a credential. */
  readonly authDenied: Counter<"listener" | "filter" | "reason">;
  readonly authAllowed: Counter<"listener" | "filter">;
  readonly tlsReloads: Counter<"listener" | "result">;
  readonly tlsCertificateExpiry: Gauge<"listener" | "certificate">;
  readonly #flushers = new Set<() => void>();

  /**
   * Registers `flush`, called before the per-request series are read (a scrape): the hot path
   * counts in plain numbers and publishes them then, since every prom-client inc() hashes its
   * labels (measurable per request).
   */
  onCollect(flush: () => void): void {
    this.#flushers.add(flush);
  }

  #flush(): void {
    for (const flush of this.#flushers) flush();
  }

  constructor(registry: Registry) {
    const registers = [registry];
    const collect = () => this.#flush();
    this.requests = new Counter({
      name: "sidecar_proxy_requests_total",
      help: "Requests completed, by listener, route, cluster, method and status class (1xx…5xx).",
      labelNames: ["listener", "route", "cluster", "method", "status_class"],
      registers,
      collect,
    });
    this.duration = new BatchedHistogram({
      name: "sidecar_proxy_request_duration_seconds",
      help: "Time from the request's first byte to the response's last byte.",
      labelNames: ["listener", "route", "cluster"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.retries = new Counter({
      name: "sidecar_proxy_upstream_retries_total",
      help: "Retries sent to a cluster.",
      labelNames: ["cluster"],
      registers,
    });
    this.timeouts = new Counter({
      name: "sidecar_proxy_upstream_timeouts_total",
      help: "Requests (or tries) that hit a timeout before the upstream's response headers.",
      labelNames: ["cluster"],
      registers,
    });
    this.ejections = new Counter({
      name: "sidecar_proxy_outlier_ejections_total",
      help: "Endpoints ejected by outlier detection.",
      labelNames: ["cluster"],
      registers,
    });
    this.overflows = new Counter({
      name: "sidecar_proxy_overflow_total",
      help: "Requests refused with 503 because the cluster's maxRequests was reached.",
      labelNames: ["cluster"],
      registers,
    });
    this.rateLimited = new Counter({
      name: "sidecar_proxy_rate_limited_total",
      help: "Requests refused with 429 by a local rate limit.",
      labelNames: ["listener"],
      registers,
    });
    this.activeRequests = new Gauge({
      name: "sidecar_proxy_active_requests",
      help: "Requests in flight.",
      labelNames: ["listener"],
      registers,
      collect,
    });
    this.activeConnections = new Gauge({
      name: "sidecar_proxy_active_connections",
      help: "Open downstream connections.",
      labelNames: ["listener"],
      registers,
    });
    this.bytesReceived = new Counter({
      name: "sidecar_proxy_received_bytes_total",
      help: "Request body bytes received from clients.",
      labelNames: ["listener"],
      registers,
      collect,
    });
    this.bytesSent = new Counter({
      name: "sidecar_proxy_sent_bytes_total",
      help: "Response body bytes sent to clients.",
      labelNames: ["listener"],
      registers,
      collect,
    });
    this.drainClosed = new Counter({
      name: "sidecar_proxy_drain_closed_connections_total",
      help: "Keep-alive connections closed with Connection: close while draining.",
      labelNames: ["listener"],
      registers,
    });
    this.authDenied = new Counter({
      name: "sidecar_proxy_auth_denied_total",
      help: "Requests refused by an authentication or authorization filter (401/403/429), by reason.",
      labelNames: ["listener", "filter", "reason"],
      registers,
    });
    this.authAllowed = new Counter({
      name: "sidecar_proxy_auth_allowed_total",
      help: "Requests an authentication or authorization filter let through.",
      labelNames: ["listener", "filter"],
      registers,
    });
    this.tlsReloads = new Counter({
      name: "sidecar_proxy_tls_reloads_total",
      help: "Reloads of a TLS listener's certificates, keys and client CA after a file changed.",
      labelNames: ["listener", "result"],
      registers,
    });
    this.tlsCertificateExpiry = new Gauge({
      name: "sidecar_proxy_tls_certificate_expiry_timestamp_seconds",
      help: "When each served certificate expires (Unix seconds), by listener and certificate file.",
      labelNames: ["listener", "certificate"],
      registers,
    });
  }
}
