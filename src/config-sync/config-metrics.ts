import { Counter, Gauge, type Registry } from "../runtime/telemetry/metrics-registry.ts";
import type { ConfigSource } from "./sources/config-source.ts";

/** The stages a version can fail at (the `stage` label). */
export type FailStage = "fetch" | "render" | "validate" | "publish";

/** The config role's metrics, `sidecar_config_*`; labels are bounded (source names, stages, kinds). */
export class ConfigMetrics {
  readonly versionInfo: Gauge<"hash">;
  readonly publishes: Counter;
  readonly failedVersions: Counter<"stage">;
  readonly notifications: Counter<"kind" | "result">;
  readonly lastSuccess: Gauge;
  readonly sourceChanges: Counter<"source">;

  constructor(registry: Registry, sources: () => readonly ConfigSource[]) {
    this.versionInfo = new Gauge({
      name: "sidecar_config_version_info",
      help: "The published version of the outputs (a hash of their content); the value is always 1.",
      labelNames: ["hash"],
      registers: [registry],
    });
    this.publishes = new Counter({
      name: "sidecar_config_publishes_total",
      help: "Versions published into the output directory.",
      registers: [registry],
    });
    this.failedVersions = new Counter({
      name: "sidecar_config_failed_versions_total",
      help: "Versions kept back because a stage failed (fetch, render, validate, publish).",
      labelNames: ["stage"],
      registers: [registry],
    });
    for (const stage of ["fetch", "render", "validate", "publish"])
      this.failedVersions.inc({ stage }, 0);
    this.notifications = new Counter({
      name: "sidecar_config_notifications_total",
      help: "Notifications of the app by kind (http, signal, command, restart) and result (ok, error, superseded).",
      labelNames: ["kind", "result"],
      registers: [registry],
    });
    this.lastSuccess = new Gauge({
      name: "sidecar_config_last_publish_timestamp_seconds",
      help: "When the current version was published (or found already published at start), in Unix seconds.",
      registers: [registry],
    });
    this.sourceChanges = new Counter({
      name: "sidecar_config_source_changes_total",
      help: "New values read from each source.",
      labelNames: ["source"],
      registers: [registry],
    });
    new Gauge({
      name: "sidecar_config_source_up",
      help: "Whether each source's last read or watch succeeded (1) or failed (0).",
      labelNames: ["source"],
      registers: [registry],
      collect() {
        for (const source of sources()) this.set({ source: source.name }, source.status.up ? 1 : 0);
      },
    });
  }

  /** The version gauge shows the current hash only. */
  setVersion(hash: string, at: number): void {
    this.versionInfo.reset();
    this.versionInfo.set({ hash }, 1);
    this.lastSuccess.set(at / 1000);
  }
}
