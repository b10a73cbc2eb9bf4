import type { AdminRouteTable } from "./admin/admin-router.ts";
import { AdminServer } from "./admin/admin-server.ts";
import type { AppRole } from "./app/app-role.ts";
import { fs } from "./builtins.ts";
import type { LoadedConfig } from "./config/load-config.ts";
import { ErrorCodes } from "./errors.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import type { MemoryPlan } from "./memory-plan-env.ts";
import type { MemoryPressure } from "./memory-pressure.ts";
import type { QuietMemoryRelease } from "./quiet-memory-release.ts";
import { releaseStartupMemory } from "./release-startup-memory.ts";
import type { Role } from "./role.ts";
import { Supervisor } from "./supervisor.ts";
import type { Logger } from "./telemetry/logger.ts";
import type { SidecarRegistry } from "./telemetry/metrics-registry.ts";
import { sidecarVersion } from "./version.ts";

export interface SidecarRuntimeOptions {
  loaded: LoadedConfig;
  logger: Logger;
  metrics: SidecarRegistry;
  /** Roles in start order; the admin server is added first by the runtime. Include the app role (local mode) where it belongs. */
  roles: readonly Role[];
  app?: AppRole;
  /** Endpoints and status-page panels the roles added. */
  adminRoutes?: AdminRouteTable;
  /** Called once, when a shutdown is first requested (the roles' shutdown signal). */
  onStopRequested?: () => void;
  /** The memory plan (undefined without a limit), the buffer sizes derived from it, and the pressure service that runs beside the roles. */
  memory?: {
    plan: MemoryPlan | undefined;
    budget: MemoryBudget;
    pressure: MemoryPressure | undefined;
    /** The collection once the roles have started, and again when traffic stops. */
    release?: QuietMemoryRelease | undefined;
  };
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
}

/**
 * Ties the roles together: starts them in order behind the admin server, waits for a reason to
 * stop (a signal, /quitquitquit, the app's exit), then shuts down gracefully within
 * shutdown.gracePeriodSeconds. A second signal forces the exit.
 */
export class SidecarRuntime {
  readonly admin: AdminServer;
  readonly #options: SidecarRuntimeOptions;
  readonly #supervisor: Supervisor;
  readonly #startedAt = Date.now();
  #stopRequested: ((reason: string) => void) | undefined;
  #stopReason: string | undefined;
  #exitCode: number | undefined;
  readonly #memory: MemoryPlan | undefined;

  constructor(options: SidecarRuntimeOptions) {
    this.#options = options;
    const { loaded, logger, metrics } = options;
    this.#memory = options.memory?.plan;
    const budget = options.memory?.budget;
    const pressure = options.memory?.pressure;
    this.admin = new AdminServer({
      address: loaded.config.admin.address,
      registry: metrics.registry,
      logger,
      readiness: () => this.#supervisor.readiness(),
      status: () => ({
        version: sidecarVersion,
        uptimeSeconds: (Date.now() - this.#startedAt) / 1000,
        config: { path: loaded.path ?? null, hash: loaded.hash },
        app: options.app ? { exitCode: options.app.exitCode ?? null } : undefined,
        memory: {
          ...(this.#memory ?? {
            limitBytes: null,
            plan: "no container memory limit: Node's defaults",
          }),
          ...(budget
            ? { buffers: { logs: budget.logs, proxy: budget.proxy, sync: budget.sync } }
            : {}),
          ...(pressure ? { pressure: pressure.figures } : {}),
        },
      }),
      onQuit: () => this.requestStop("/quitquitquit"),
      ...(options.adminRoutes ? { routes: options.adminRoutes } : {}),
    });
    this.#supervisor = new Supervisor(
      pressure ? [this.admin, pressure, ...options.roles] : [this.admin, ...options.roles],
      { logger },
    );
    metrics.setRoleSource(() => this.#supervisor.readiness().roles);
  }

  /**
   * Asks for a graceful shutdown; the first reason wins. `exitCode` is what the sidecar exits
   * with when there is no app (a role that finished its one job, or failed it).
   */
  requestStop(reason: string, exitCode?: number): void {
    if (this.#stopReason !== undefined) return;
    this.#stopReason = reason;
    this.#exitCode = exitCode;
    this.#options.onStopRequested?.();
    this.#supervisor.drain();
    this.#stopRequested?.(reason);
  }

  /** Runs until stopped; resolves with the exit code (the app's in local mode). */
  async run(): Promise<number> {
    const { logger, app } = this.#options;
    const stopRequested = new Promise<string>((resolve) => {
      this.#stopRequested = resolve;
      if (this.#stopReason !== undefined) resolve(this.#stopReason);
    });
    const removeSignals =
      this.#options.handleSignals === false ? () => {} : this.#installSignalHandlers();
    if (this.#memory) {
      const { limitBytes, source, maxOldSpaceMiB, semiSpaceMiB, budgetBytes } = this.#memory;
      const budget = this.#options.memory?.budget;
      logger[this.#memory.tooSmall ? "warn" : "info"](
        {
          limitBytes,
          source,
          budgetBytes,
          maxOldSpaceMiB,
          semiSpaceMiB,
          ...(budget
            ? { buffers: { logs: budget.logs, proxy: budget.proxy, sync: budget.sync } }
            : {}),
        },
        this.#memory.tooSmall
          ? "memory limit is below what the sidecar needs (give it at least 96Mi); heap sized to the minimum"
          : "memory plan: heap and buffers sized to the container's limit",
      );
    }
    const stopWatchingExitFile = this.#watchExitFile();
    try {
      // A signal during start must not wait for the start to finish (an app may take a minute
      // to become ready): stop() takes over the roles that are still starting.
      const started = this.#supervisor.start().then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const first = await Promise.race([started, stopRequested.then(() => undefined)]);
      if (first && !first.ok) throw first.error;
      if (first?.ok && this.#stopReason === undefined) {
        logger.info(
          { version: sidecarVersion, roles: this.#options.roles.map((r) => r.name) },
          "sidecar ready to serve",
        );
        if (this.#options.memory?.release) this.#options.memory.release.releaseNow();
        else releaseStartupMemory();
      }
      const reason = await stopRequested;
      const graceSeconds = this.#options.loaded.config.shutdown.gracePeriodSeconds;
      logger.info({ reason, gracePeriodSeconds: graceSeconds }, "shutting down");
      const deadline = AbortSignal.timeout(graceSeconds * 1000);
      this.#options.memory?.release?.close();
      await this.#supervisor.stop(deadline);
      // A role still starting (and ignoring the stop) must not hold the exit past the deadline.
      await Promise.race([started, abortedBy(deadline)]);
      if (deadline.aborted) {
        logger.error(
          { code: ErrorCodes.SHUTDOWN_TIMEOUT, gracePeriodSeconds: graceSeconds },
          "graceful shutdown did not finish within shutdown.gracePeriodSeconds",
        );
        app?.kill();
      }
      const code = app?.exitCode ?? this.#exitCode ?? (deadline.aborted ? 1 : 0);
      logger.info({ exitCode: code }, "sidecar stopped");
      return code;
    } finally {
      removeSignals();
      stopWatchingExitFile();
    }
  }

  /** shutdown.whenFileExists: a Job's app container creates the file when it ends. */
  #watchExitFile(): () => void {
    const path = this.#options.loaded.config.shutdown.whenFileExists;
    if (!path) return () => {};
    const timer = setInterval(() => {
      if (fs.existsSync(path)) this.requestStop(`${path} exists (the app's container ended)`, 0);
    }, 500);
    timer.unref();
    return () => clearInterval(timer);
  }

  #installSignalHandlers(): () => void {
    const { logger, app } = this.#options;
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#stopReason === undefined) {
        logger.info(
          { signal },
          "signal received; starting graceful shutdown (send it again to force)",
        );
        this.requestStop(signal);
        return;
      }
      logger.warn({ signal }, "second signal received; forcing exit now");
      app?.kill();
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    return () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    };
  }
}

function abortedBy(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
