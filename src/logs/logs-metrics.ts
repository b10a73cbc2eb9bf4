import { Counter, Gauge, type Registry } from "../runtime/telemetry/metrics-registry.ts";

/** Why the pipeline did not send an event on (a bounded label set). */
export type DropReason = "transform" | "sink_failed" | "shutdown";

/**
 * The logs role's own metrics (the sinks register theirs): lines and bytes read per source,
 * long lines, dropped events by reason, buffer bytes, lag in bytes, checkpoint writes.
 */
export class LogsMetrics {
  readonly linesRead: Counter<"source">;
  readonly bytesRead: Counter<"source">;
  readonly longLines: Counter<"source">;
  readonly dropped: Counter<"reason">;
  readonly bufferBytes: Gauge;
  readonly lagBytes: Gauge<"source">;
  readonly checkpointErrors: Counter;
  readonly checkpointWrites: Counter<"source">;

  constructor(registry: Registry, sources: () => Iterable<{ name: string; lagBytes(): number }>) {
    const registers = [registry];
    this.linesRead = new Counter({
      name: "sidecar_logs_lines_read_total",
      help: "Lines read, by source.",
      labelNames: ["source"],
      registers,
    });
    this.bytesRead = new Counter({
      name: "sidecar_logs_bytes_read_total",
      help: "Bytes read, by source.",
      labelNames: ["source"],
      registers,
    });
    this.longLines = new Counter({
      name: "sidecar_logs_long_lines_total",
      help: "Lines cut at maxLineBytes (split or truncated), by source.",
      labelNames: ["source"],
      registers,
    });
    this.dropped = new Counter({
      name: "sidecar_logs_dropped_events_total",
      help: "Events not sent on, by reason (transform: dropped by a transform on purpose).",
      labelNames: ["reason"],
      registers,
    });
    this.bufferBytes = new Gauge({
      name: "sidecar_logs_buffer_bytes",
      help: "Bytes of lines read and not yet acknowledged by every sink.",
      registers,
    });
    this.lagBytes = new Gauge({
      name: "sidecar_logs_lag_bytes",
      help: "Bytes written to the source's files and not yet committed (file size minus checkpoint).",
      labelNames: ["source"],
      registers,
      collect() {
        for (const source of sources()) this.set({ source: source.name }, source.lagBytes());
      },
    });
    this.checkpointErrors = new Counter({
      name: "sidecar_logs_checkpoint_errors_total",
      help: "Checkpoint writes that failed.",
      registers,
    });
    this.checkpointWrites = new Counter({
      name: "sidecar_logs_checkpoint_writes_total",
      help: "Checkpoint file writes, by source (at most one per checkpointIntervalMs, plus rotations and closes).",
      labelNames: ["source"],
      registers,
    });
  }
}
