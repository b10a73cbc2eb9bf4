import { setTimeout as sleep } from "node:timers/promises";
import { Counter, type Registry } from "prom-client";
import { Backoff } from "../backoff.ts";
import { ErrorCodes, SidecarError } from "../errors.ts";
import type { Role } from "../role.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { AppConfig } from "./app-config.ts";
import type { AppOutputTap } from "./app-output.ts";
import { AppProcess } from "./app-process.ts";
import { describeExit, type ExitStatus, exitCodeOf } from "./exit-status.ts";
import { HealthProbe } from "./health-probe.ts";

/** A run that lasted this long resets the restart backoff. */
const backoffResetSeconds = 60;

export interface AppRoleOptions {
  registry: Registry;
  logger: Logger;
  /** The app's environment (read at each spawn, so it can name ports bound after construction). */
  env: () => NodeJS.ProcessEnv;
  /** Called once when the app has exited for good (not restarting) while the sidecar was not stopping. */
  onFinalExit: (status: ExitStatus) => void;
  /** Also feeds the app's stdout/stderr here (they still reach the terminal). */
  output?: AppOutputTap;
}

/**
 * The app as a role of `sidecar run`: spawned at start, ready when its health probe passes,
 * restarted by policy, and stopped with SIGTERM → stopTimeoutSeconds → SIGKILL.
 */
export class AppRole implements Role {
  readonly name = "app";
  readonly #command: readonly string[];
  readonly #config: AppConfig;
  readonly #options: AppRoleOptions;
  readonly #probe: HealthProbe | undefined;
  readonly #restarts: Counter;
  readonly #stopController = new AbortController();
  #process: AppProcess | undefined;
  #lastExit: ExitStatus | undefined;
  #restartAt: number | undefined;
  #restartRequested = false;
  #loop: Promise<void> | undefined;

  constructor(command: readonly string[], config: AppConfig, options: AppRoleOptions) {
    this.#command = command;
    this.#config = config;
    this.#options = options;
    this.#probe =
      config.health &&
      new HealthProbe(config.health, { registry: options.registry, logger: options.logger });
    this.#restarts = new Counter({
      name: "sidecar_app_restarts_total",
      help: "Times the app was restarted by its restart policy.",
      registers: [options.registry],
    });
  }

  /** The app's exit status as an exit code for the sidecar (128+signal when killed); undefined while it runs. */
  get exitCode(): number | undefined {
    return this.#lastExit && !this.#process?.running ? exitCodeOf(this.#lastExit) : undefined;
  }

  async start(): Promise<void> {
    this.#process = await this.#spawn();
    this.#loop = this.#superviseRuns();
    if (!this.#probe) return;
    const timeoutMs = this.#config.startTimeoutSeconds * 1000;
    const gaveUp = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stopController.signal]);
    // Resolves when up, on timeout, or when the app stopped for good (the final exit ends the sidecar).
    const up = await Promise.race([this.#probe.waitUntilUp(gaveUp), this.#loop.then(() => false)]);
    if (up || this.#stopController.signal.aborted || this.exitCode !== undefined) return;
    const lastError = this.#probe.lastError ?? "none";
    await this.stop(AbortSignal.timeout(this.#config.stopTimeoutSeconds * 1000 + 1000));
    throw new SidecarError(
      ErrorCodes.APP_NOT_READY,
      `App did not become ready within ${this.#config.startTimeoutSeconds}s (app.startTimeoutSeconds): last probe error: ${lastError}`,
    );
  }

  ready(): boolean {
    return (this.#process?.running ?? false) && (this.#probe?.up ?? true);
  }

  readonly notReadyReason = (): string => {
    if (!this.#process?.running) {
      const last = this.#lastExit ? describeExit(this.#lastExit) : "not started";
      return this.#restartAt
        ? `app ${last}; restarting in ${Math.max(0, (this.#restartAt - Date.now()) / 1000).toFixed(1)}s`
        : `app ${last}`;
    }
    return `health probe: ${this.#probe?.lastError ?? "not passing yet"}`;
  };

  async stop(deadline: AbortSignal): Promise<void> {
    this.#stopController.abort();
    this.#probe?.stop();
    const app = this.#process;
    if (app?.running) {
      this.#options.logger.info({ pid: app.pid }, "stopping app (SIGTERM)");
      app.signal("SIGTERM");
      const grace = AbortSignal.any([
        AbortSignal.timeout(this.#config.stopTimeoutSeconds * 1000),
        deadline,
      ]);
      const exited = await Promise.race([
        app.exited.then(() => true),
        once(grace).then(() => false),
      ]);
      if (!exited) {
        this.#options.logger.warn(
          { pid: app.pid, stopTimeoutSeconds: this.#config.stopTimeoutSeconds },
          "app did not stop in time; sending SIGKILL",
        );
        app.signal("SIGKILL");
        await app.exited;
      }
    }
    await this.#loop;
  }

  /** Sends `signal` to the app's process group (a role asking it to reload); false when it is not running. */
  signal(signal: NodeJS.Signals): boolean {
    const app = this.#process;
    return app?.running === true && app.signal(signal);
  }

  /**
   * Restarts the app on a role's request (new config it reads only at start): SIGTERM →
   * stopTimeoutSeconds → SIGKILL, then a new run at once, without the failure backoff.
   * Resolves once the old run has exited; does nothing while the sidecar is stopping.
   */
  async restart(reason: string): Promise<void> {
    const app = this.#process;
    if (!app?.running || this.#stopController.signal.aborted) return;
    this.#restartRequested = true;
    this.#options.logger.info({ pid: app.pid, reason }, "restarting app on request (SIGTERM)");
    app.signal("SIGTERM");
    const grace = AbortSignal.timeout(this.#config.stopTimeoutSeconds * 1000);
    const exited = await Promise.race([app.exited.then(() => true), once(grace).then(() => false)]);
    if (!exited) {
      app.signal("SIGKILL");
      await app.exited;
    }
  }

  /** Kills the app's process group at once (a forced exit). */
  kill(): void {
    this.#process?.signal("SIGKILL");
  }

  async #spawn(): Promise<AppProcess> {
    const app = await AppProcess.spawn(this.#command, this.#options.env(), this.#options.output);
    // However the sidecar ends (a forced exit, an uncaught error), it must not leave the app behind.
    const killOnExit = () => app.signal("SIGKILL");
    process.once("exit", killOnExit);
    void app.exited.then(() => process.off("exit", killOnExit));
    this.#options.logger.info({ pid: app.pid, command: this.#command }, "app started");
    this.#probe?.start();
    return app;
  }

  /** Waits for each run to end and restarts it by policy, until stop() or a final exit. */
  async #superviseRuns(): Promise<void> {
    const { initialSeconds, maxSeconds } = this.#config.restartBackoff;
    // No jitter: one app per Pod, nothing to spread; the delays are the documented 1, 2, 4, … s.
    const backoff = new Backoff({
      initialMs: initialSeconds * 1000,
      maxMs: maxSeconds * 1000,
      jitter: "none",
    });
    for (;;) {
      const app = this.#process!;
      const status = await app.exited;
      this.#lastExit = status;
      this.#probe?.stop();
      const stopping = this.#stopController.signal.aborted;
      const log = { code: status.code, signal: status.signal, exitCode: exitCodeOf(status) };
      if (this.#restartRequested && !stopping) {
        this.#restartRequested = false;
        this.#restarts.inc();
        try {
          this.#process = await this.#spawn();
          continue;
        } catch (error) {
          this.#options.logger.error({ error }, "app could not be restarted");
          this.#options.onFinalExit(status);
          return;
        }
      }
      if (stopping || !this.#shouldRestart(status)) {
        this.#options.logger[status.code === 0 ? "info" : "warn"](
          log,
          `app ${describeExit(status)}`,
        );
        if (!stopping) this.#options.onFinalExit(status);
        return;
      }
      if ((performance.now() - app.startedAt) / 1000 >= backoffResetSeconds) backoff.reset();
      const delay = backoff.next() / 1000;
      this.#options.logger.warn(
        { ...log, restartInSeconds: delay, policy: this.#config.restart },
        `app ${describeExit(status)}; restarting`,
      );
      this.#restartAt = Date.now() + delay * 1000;
      try {
        await sleep(delay * 1000, undefined, { signal: this.#stopController.signal });
      } catch {
        return; // stopping
      } finally {
        this.#restartAt = undefined;
      }
      this.#restarts.inc();
      try {
        this.#process = await this.#spawn();
      } catch (error) {
        this.#options.logger.error({ error }, "app could not be restarted");
        this.#options.onFinalExit(status);
        return;
      }
    }
  }

  #shouldRestart(status: ExitStatus): boolean {
    if (this.#config.restart === "always") return true;
    return this.#config.restart === "on-failure" && exitCodeOf(status) !== 0;
  }
}

function once(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
