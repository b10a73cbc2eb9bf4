import { Counter, Gauge, type Registry } from "../../../runtime/telemetry/metrics-registry.ts";

function counter(registry: Registry, name: string, help: string, labelNames: string[]) {
  const existing = registry.getSingleMetric(name);
  return (
    (existing as Counter<string> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

function gauge(registry: Registry, name: string, help: string) {
  const existing = registry.getSingleMetric(name);
  return (
    (existing as Gauge<string> | undefined) ??
    new Gauge({ name, help, labelNames: ["sink"], registers: [registry] })
  );
}

/** Why events were not delivered. */
export type FailReason =
  | "rejected"
  | "retries_exhausted"
  | "unsent_at_close"
  | "dead_letter_failed";

/**
 * The sink metrics `sidecar_logs_sink_*`, shared by every sink in one registry and labelled
 * by sink name (bounded: one per configured sink).
 */
export class SinkMetrics {
  readonly #sink: string;
  readonly #sent: Counter<string>;
  readonly #failed: Counter<string>;
  readonly #retries: Counter<string>;
  readonly #deadLettered: Counter<string>;
  readonly #lastSuccess: Gauge<string>;
  readonly #inFlight: Gauge<string>;

  constructor(registry: Registry, sink: string) {
    this.#sink = sink;
    this.#sent = counter(
      registry,
      "sidecar_logs_sink_events_sent_total",
      "Events delivered by each sink.",
      ["sink"],
    );
    this.#failed = counter(
      registry,
      "sidecar_logs_sink_events_failed_total",
      "Events a sink did not deliver, by reason (rejected, retries_exhausted, unsent_at_close, dead_letter_failed).",
      ["sink", "reason"],
    );
    this.#retries = counter(
      registry,
      "sidecar_logs_sink_retries_total",
      "Retried send attempts of each sink.",
      ["sink"],
    );
    this.#deadLettered = counter(
      registry,
      "sidecar_logs_sink_dead_lettered_total",
      "Events written to each sink's dead-letter file.",
      ["sink"],
    );
    this.#lastSuccess = gauge(
      registry,
      "sidecar_logs_sink_last_success_timestamp_seconds",
      "Unix time of each sink's last successful send.",
    );
    this.#inFlight = gauge(
      registry,
      "sidecar_logs_sink_in_flight_batches",
      "Batches each sink is sending now.",
    );
    this.#inFlight.set({ sink }, 0);
  }

  sent(count: number, nowMs: number): void {
    if (count > 0) this.#sent.inc({ sink: this.#sink }, count);
    this.#lastSuccess.set({ sink: this.#sink }, Math.floor(nowMs / 1000));
  }

  failed(count: number, reason: FailReason): void {
    if (count > 0) this.#failed.inc({ sink: this.#sink, reason }, count);
  }

  retried(): void {
    this.#retries.inc({ sink: this.#sink });
  }

  deadLettered(count: number): void {
    if (count > 0) this.#deadLettered.inc({ sink: this.#sink }, count);
  }

  inFlight(count: number): void {
    this.#inFlight.set({ sink: this.#sink }, count);
  }
}
