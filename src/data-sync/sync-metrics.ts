import { Counter, Gauge, Histogram, type Registry } from "../runtime/telemetry/metrics-registry.ts";

/** Why a sync or a file's copy failed: the `kind` label of sidecar_sync_errors_total. */
export type SyncErrorKind = "target" | "source" | "changed" | "hook" | "manifest";

/** What the role knows right now, read by /metrics at scrape time. */
export interface SyncFigures {
  /** Seconds since the oldest change not yet in a version (0 when none). */
  lagSeconds(): number;
}

/** The sync role's metrics, `sidecar_sync_*`, in the one registry. */
export class SyncMetrics {
  readonly filesCopied: Counter;
  readonly bytesCopied: Counter;
  readonly errors: Counter<"kind">;
  readonly runs: Counter<"result">;
  readonly duration: Histogram;
  readonly lastSuccess: Gauge;
  readonly manifestFiles: Gauge;
  readonly manifestBytes: Gauge;
  readonly manifestVersion: Gauge;
  readonly filesRestored: Counter;

  constructor(registry: Registry, figures: SyncFigures) {
    const registers = [registry];
    this.filesCopied = new Counter({
      name: "sidecar_sync_files_copied_total",
      help: "Files whose content was copied to the target (unchanged or already-stored content is not copied).",
      registers,
    });
    this.bytesCopied = new Counter({
      name: "sidecar_sync_bytes_copied_total",
      help: "Bytes copied to the target.",
      registers,
    });
    this.errors = new Counter({
      name: "sidecar_sync_errors_total",
      help: "Failures by kind: target (unreachable, refused), source (unreadable file), changed (file changed while copied; retried), hook (pre-sync command), manifest.",
      labelNames: ["kind"],
      registers,
    });
    for (const kind of ["target", "source", "changed", "hook", "manifest"])
      this.errors.inc({ kind }, 0);
    this.runs = new Counter({
      name: "sidecar_sync_runs_total",
      help: "Sync passes by result: ok (target up to date), partial (some files to retry), failed.",
      labelNames: ["result"],
      registers,
    });
    this.duration = new Histogram({
      name: "sidecar_sync_duration_seconds",
      help: "Time a sync pass took (scan, copy, manifest).",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "sidecar_sync_last_success_timestamp_seconds",
      help: "When the last sync pass that left the target up to date ended (Unix time; 0 = never).",
      registers,
    });
    new Gauge({
      name: "sidecar_sync_lag_seconds",
      help: "Age of the oldest change in the data directory that no version at the target holds yet.",
      registers,
      collect() {
        this.set(figures.lagSeconds());
      },
    });
    this.manifestFiles = new Gauge({
      name: "sidecar_sync_manifest_files",
      help: "Files in the newest version at the target.",
      registers,
    });
    this.manifestBytes = new Gauge({
      name: "sidecar_sync_manifest_bytes",
      help: "Bytes of the files in the newest version at the target.",
      registers,
    });
    this.manifestVersion = new Gauge({
      name: "sidecar_sync_manifest_version",
      help: "Number of the newest version at the target.",
      registers,
    });
    this.filesRestored = new Counter({
      name: "sidecar_sync_files_restored_total",
      help: "Files restored from the target into the data directory.",
      registers,
    });
  }
}
