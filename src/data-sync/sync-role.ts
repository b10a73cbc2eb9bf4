import { join, resolve } from "node:path";
import { Backoff } from "../runtime/backoff.ts";
import { fs } from "../runtime/builtins.ts";
import type { TimerHandle } from "../runtime/clock.ts";
import { describeError, isSidecarError, type SidecarError } from "../runtime/errors.ts";
import { CheckpointStore } from "../runtime/files/checkpoint-store.ts";
import type { Role } from "../runtime/role.ts";
import type { RoleContext } from "../runtime/role-definition.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import { manifestTotals } from "./manifest.ts";
import { internalPrefix, pathFilter } from "./path-filter.ts";
import { restore } from "./restore.ts";
import type { SyncConfig } from "./sync-config.ts";
import { type SyncErrorKind, SyncMetrics } from "./sync-metrics.ts";
import { syncStatusPanel, syncStatusRoute } from "./sync-status.ts";
import { Syncer, type SyncResult } from "./syncer.ts";
import { createTarget } from "./targets/create-target.ts";
import type { SyncTarget } from "./targets/target.ts";
import { UploadJournal, type UploadJournalState } from "./targets/upload-journal.ts";
import { Throttle } from "./throttle.ts";
import { TreeWatcher } from "./tree-watcher.ts";

/** Changed paths a pass is given at most; beyond, it scans everything (as cheap, bounded memory). */
const changedPathsLimit = 50_000;

/** What /sync/status and the status panel show. */
export interface SyncStatus {
  dataDir: string;
  target: string;
  deletes: "keep" | "mirror";
  version: number | undefined;
  versionCreatedAt: string | undefined;
  files: number;
  bytes: number;
  running: boolean;
  lastSuccessAt: string | undefined;
  lastError: { at: string; kind: SyncErrorKind; message: string } | undefined;
  lagSeconds: number;
  /** Files left for the next pass (changed while copied, unreadable). */
  pending: string[];
  restored: { version: number; files: number } | undefined;
}

export interface SyncRoleDeps {
  /** A target built by the caller (tests inject faults); default: from the config. */
  target?: SyncTarget;
}

const kindOf = (error: unknown): SyncErrorKind => {
  if (!isSidecarError(error)) return "target";
  if (error.code === SyncErrorCodes.HOOK) return "hook";
  if (error.code === SyncErrorCodes.SOURCE) return "source";
  if (error.code === SyncErrorCodes.MANIFEST) return "manifest";
  return "target";
};

/**
 * The sync role: restores the data directory before the app starts (when it is empty and the
 * target holds a backup), then keeps the target in sync — after changes (debounced), on an
 * interval, and a last time when it stops, which is after the app has stopped. A failed pass
 * is retried with backoff; nothing is recorded at the target that is not stored there.
 *
 * @example
 * const role = createSyncRole(config.sync, ctx);
 * await role.start(); … await role.stop(AbortSignal.timeout(30_000));
 */
export class SyncRole implements Role {
  readonly name = "sync";
  readonly metrics: SyncMetrics;
  readonly #config: SyncConfig;
  readonly #ctx: RoleContext;
  readonly #dataDir: string;
  readonly #target: SyncTarget;
  readonly #syncer: Syncer;
  readonly #backoff: Backoff;
  #ready = false;
  #stopped = false;
  /** No more triggered passes (stopping, or `once` done). */
  #quieted = false;
  #watcher: TreeWatcher | undefined;
  /**
   * Paths the watch reported changed since the last pass began: the next pass looks at them
   * only. Undefined: unknown (at start, on the interval, after a failed pass, when the watch
   * failed or reported too much); the next pass scans everything.
   */
  #changedPaths: Set<string> | undefined;
  #interval: TimerHandle | undefined;
  #timer: { handle: TimerHandle; due: number } | undefined;
  #running: Promise<unknown> | undefined;
  #again = false;
  /** When the oldest change not yet in a version happened (undefined: none known). */
  #dirtySince: number | undefined;
  #inFlightSince: number | undefined;
  #lastSuccessAt: number | undefined;
  #lastError: SyncStatus["lastError"];
  #pending: string[] = [];
  #restored: SyncStatus["restored"];
  /** `once`: its pass brought the target up to date, so stopping needs no final pass. */
  #onceDone = false;

  constructor(config: SyncConfig, ctx: RoleContext, deps: SyncRoleDeps = {}) {
    this.#config = config;
    this.#ctx = ctx;
    this.#dataDir = resolve(config.dataDir);
    this.#target =
      deps.target ??
      createTarget(config.target, {
        copyThreads: ctx.memory.budget.sync.copyThreads,
        journal: new UploadJournal(
          new CheckpointStore<UploadJournalState>(
            join(resolve(config.stateDir), "s3-uploads.json"),
            { version: 1, logger: ctx.logger, mode: 0o600 },
          ),
        ),
      });
    this.metrics = new SyncMetrics(ctx.registry, { lagSeconds: () => this.#lagSeconds() });
    this.#syncer = new Syncer({
      dataDir: this.#dataDir,
      target: this.#target,
      filter: pathFilter(config.include, config.exclude),
      deletes: config.deletes,
      retention: config.retention,
      concurrency: config.concurrency,
      ...(config.bandwidthMiBps > 0
        ? { throttle: new Throttle(config.bandwidthMiBps * 1024 * 1024) }
        : {}),
      ...(config.preSync ? { preSync: config.preSync } : {}),
      logger: ctx.logger,
      metrics: this.metrics,
      now: () => ctx.clock.now(),
    });
    this.#backoff = new Backoff({
      initialMs: config.retry.initialSeconds * 1000,
      maxMs: config.retry.maxSeconds * 1000,
    });
    ctx.admin.route(syncStatusRoute(() => this.status()));
    ctx.admin.panel(
      syncStatusPanel(
        () => this.status(),
        () => ctx.clock.now(),
      ),
    );
  }

  ready(): boolean {
    return this.#ready;
  }

  readonly notReadyReason = () => (this.#ready ? undefined : "restoring the data directory");

  async start(): Promise<void> {
    const { logger } = this.#ctx;
    if (this.#config.restore.onStart) {
      const result = await restore({
        dataDir: this.#dataDir,
        target: this.#target,
        logger,
        metrics: this.metrics,
        concurrency: this.#config.concurrency,
      });
      if (result.status === "restored")
        this.#restored = { version: result.version, files: result.files };
      else if (result.status === "not-empty")
        logger.info({ dataDir: this.#dataDir }, "data directory is not empty: nothing restored");
      else logger.info({ target: this.#target.description }, `nothing restored: ${result.reason}`);
    }
    await fs.promises.mkdir(this.#dataDir, { recursive: true });
    this.#dirtySince = this.#ctx.clock.now();
    // With a pre-sync hook, the hook's own writes would trigger the next pass, forever: its
    // passes run on the interval (and at stop) only. One pass (`once`) needs no trigger at all
    // (a watch of each directory of the data directory takes a walk of it to set up).
    if (this.#config.watch && !this.#config.preSync && !this.#config.once) this.#watch();
    if (this.#config.intervalSeconds > 0 && !this.#config.once)
      this.#interval = this.#ctx.clock.setInterval(() => {
        // The interval looks at everything: a change the watch missed is found here.
        this.#changedPaths = undefined;
        this.#trigger(0);
      }, this.#config.intervalSeconds * 1000);
    this.#ready = true;
    logger.info(
      { dataDir: this.#dataDir, target: this.#target.description, deletes: this.#config.deletes },
      "sync started",
    );
    this.#trigger(0);
  }

  #watch(): void {
    const watcher = new TreeWatcher(this.#dataDir, {
      ignore: (name) => name.startsWith(internalPrefix),
      onChange: (path) => this.#changed(path),
      onError: (error) => {
        this.#ctx.logger.warn(
          { error: describeError(error) },
          "watching the data directory failed; syncing on the interval only",
        );
        this.#watcher?.close();
        this.#watcher = undefined;
        this.#changedPaths = undefined;
      },
    });
    try {
      watcher.start();
      this.#watcher = watcher;
    } catch (error) {
      this.#ctx.logger.warn(
        { error: describeError(error) },
        "cannot watch the data directory; syncing on the interval only",
      );
    }
  }

  #changed(path: string | undefined): void {
    if (path === undefined || (this.#changedPaths?.size ?? 0) >= changedPathsLimit)
      this.#changedPaths = undefined;
    else this.#changedPaths?.add(path);
    const now = this.#ctx.clock.now();
    this.#dirtySince ??= now;
    // Debounce: each change pushes the pass back, but never past 10 quiet periods after the first.
    const debounce = this.#config.debounceSeconds * 1000;
    const latest = this.#dirtySince + Math.max(debounce * 10, 1000);
    this.#schedule(Math.min(now + debounce, Math.max(latest, now)), true);
  }

  #trigger(delayMs: number): void {
    this.#schedule(this.#ctx.clock.now() + delayMs, false);
  }

  /** Arms the one pass timer for `due`; `replace` moves a pending timer later too (debounce). */
  #schedule(due: number, replace: boolean): void {
    if (this.#quieted) return;
    if (this.#timer && !replace && this.#timer.due <= due) return;
    this.#timer?.handle.cancel();
    const handle = this.#ctx.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#kick();
      },
      Math.max(0, due - this.#ctx.clock.now()),
    );
    this.#timer = { handle, due };
  }

  #kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass().then((ok) => {
      this.#running = undefined;
      if (this.#config.once && !this.#stopped) {
        this.#onceDone = ok;
        this.#quiet();
        this.#ctx.requestStop("sync --once done", ok ? 0 : 1);
        return;
      }
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.#trigger(this.#config.debounceSeconds * 1000);
      }
    });
  }

  /** One pass with its bookkeeping; never rejects. Returns whether the target is up to date. */
  async #pass(): Promise<boolean> {
    const { clock, logger } = this.#ctx;
    const started = clock.now();
    this.#inFlightSince = this.#dirtySince;
    this.#dirtySince = undefined;
    // What the watch reports from now on is for the next pass.
    const changed = this.#watcher ? this.#changedPaths : undefined;
    this.#changedPaths = new Set();
    let result: SyncResult;
    try {
      result = await this.#syncer.run(undefined, changed);
    } catch (error) {
      this.#changedPaths = undefined;
      const kind = kindOf(error);
      this.metrics.errors.inc({ kind });
      this.metrics.runs.inc({ result: "failed" });
      this.#lastError = {
        at: new Date(clock.now()).toISOString(),
        kind,
        message: describeError(error),
      };
      this.#dirtySince = Math.min(this.#inFlightSince ?? started, this.#dirtySince ?? Infinity);
      this.#inFlightSince = undefined;
      const delay = this.#backoff.next();
      logger.warn(
        {
          error: describeError(error),
          code: (error as SidecarError).code,
          kind,
          retryInMs: Math.round(delay),
        },
        "sync failed; the last version at the target is unchanged",
      );
      if (!this.#stopped) this.#trigger(delay);
      return false;
    }
    this.#backoff.reset();
    this.#pending = result.retry;
    for (const path of result.retry) this.#changedPaths?.add(path);
    const seconds = (clock.now() - started) / 1000;
    this.metrics.duration.observe(seconds);
    if (result.retry.length > 0) {
      this.metrics.runs.inc({ result: "partial" });
      this.#dirtySince = Math.min(this.#inFlightSince ?? started, this.#dirtySince ?? Infinity);
      if (!this.#stopped) this.#trigger(this.#config.debounceSeconds * 1000);
    } else {
      this.metrics.runs.inc({ result: "ok" });
      this.#lastSuccessAt = clock.now();
      this.metrics.lastSuccess.set(this.#lastSuccessAt / 1000);
    }
    this.#inFlightSince = undefined;
    const fields = {
      version: result.version,
      filesCopied: result.filesCopied,
      bytesCopied: result.bytesCopied,
      retry: result.retry.length,
      durationSeconds: seconds,
    };
    if (result.published || result.retry.length > 0)
      logger.info(
        { ...fields, pruned: result.pruned },
        result.published ? "sync done: new version" : "sync partly done",
      );
    else logger.debug(fields, "sync done: nothing changed");
    return result.retry.length === 0;
  }

  #lagSeconds(): number {
    const since = Math.min(this.#inFlightSince ?? Infinity, this.#dirtySince ?? Infinity);
    return since === Infinity ? 0 : Math.max(0, (this.#ctx.clock.now() - since) / 1000);
  }

  /** The figures /sync/status shows. */
  status(): SyncStatus {
    const manifest = this.#syncer.current;
    const totals = manifestTotals(manifest);
    return {
      dataDir: this.#dataDir,
      target: this.#target.description,
      deletes: this.#config.deletes,
      version: manifest?.version,
      versionCreatedAt: manifest?.createdAt,
      files: totals.files,
      bytes: totals.bytes,
      running: this.#running !== undefined,
      lastSuccessAt:
        this.#lastSuccessAt === undefined ? undefined : new Date(this.#lastSuccessAt).toISOString(),
      lastError: this.#lastError,
      lagSeconds: this.#lagSeconds(),
      pending: this.#pending,
      restored: this.#restored,
    };
  }

  /** Runs a pass now (after any running one) and resolves with whether the target is up to date. */
  async syncNow(): Promise<boolean> {
    await this.#running;
    this.#changedPaths = undefined;
    this.#timer?.handle.cancel();
    this.#timer = undefined;
    const pass = this.#pass();
    this.#running = pass.then(() => undefined);
    try {
      return await pass;
    } finally {
      this.#running = undefined;
    }
  }

  /** Ends every trigger: no pass starts on its own after this. */
  #quiet(): void {
    this.#quieted = true;
    this.#watcher?.close();
    this.#interval?.cancel();
    this.#timer?.handle.cancel();
    this.#timer = undefined;
  }

  /** Stops the triggers, lets a running pass end, then syncs one last time (the app has stopped). */
  async stop(deadline: AbortSignal): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ready = false;
    this.#quiet();
    try {
      await this.#running;
      if (!deadline.aborted && !this.#onceDone) {
        const ok = await this.#finalPass(deadline);
        this.#ctx.logger.info(
          { version: this.#syncer.current?.version, upToDate: ok },
          ok
            ? "final sync done"
            : "final sync did not complete; the target holds the last good version",
        );
      }
    } finally {
      this.#target.close();
    }
  }

  #finalPass(deadline: AbortSignal): Promise<boolean> {
    // The last pass looks at everything: the app has stopped, nothing may be missed.
    this.#changedPaths = undefined;
    const pass = this.#pass();
    return new Promise((resolvePass) => {
      const onAbort = () => resolvePass(false);
      deadline.addEventListener("abort", onAbort, { once: true });
      void pass.then((ok) => {
        deadline.removeEventListener("abort", onAbort);
        resolvePass(ok);
      });
    });
  }
}

export function createSyncRole(
  config: SyncConfig,
  ctx: RoleContext,
  deps?: SyncRoleDeps,
): SyncRole {
  return new SyncRole(config, ctx, deps);
}
