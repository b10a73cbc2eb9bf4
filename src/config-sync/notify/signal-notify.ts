import { Backoff } from "../../runtime/backoff.ts";
import type { Clock } from "../../runtime/clock.ts";
import { SidecarError } from "../../runtime/errors.ts";
import type { AppHandle } from "../../runtime/role-definition.ts";
import { ConfigErrorCodes } from "../error-codes.ts";
import { findProcesses } from "./find-processes.ts";
import type { SignalNotifyConfig } from "./notify-config.ts";
import type { NotifyTarget } from "./notify-target.ts";

/** Errors worth a retry: nothing to signal yet (the app is starting or restarting). */
const notYet = new WeakSet<Error>();

function notRunning(message: string): SidecarError {
  const error = new SidecarError(ConfigErrorCodes.NOTIFY, message);
  notYet.add(error);
  return error;
}

/**
 * Sends a signal (SIGHUP by default): to the processes named `processName` (a Pod with
 * `shareProcessNamespace: true`), else to the app `sidecar run` supervises.
 */
export class SignalNotifyTarget implements NotifyTarget {
  readonly kind = "signal";
  readonly describe: string;
  readonly #config: SignalNotifyConfig;
  readonly #app: AppHandle | undefined;
  readonly #clock: Clock;
  readonly #procRoot: string;

  constructor(
    config: SignalNotifyConfig,
    deps: { app: AppHandle | undefined; clock: Clock },
    procRoot = "/proc",
  ) {
    this.#config = config;
    this.#app = deps.app;
    this.#clock = deps.clock;
    this.#procRoot = procRoot;
    this.describe = `${config.signal} to ${config.processName ? `processes named "${config.processName}"` : "the app"}`;
  }

  /** Retries with backoff while there is nothing to signal yet, up to giveUpAfterSeconds. */
  async send(_version: unknown, superseded: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000 });
    const giveUpAt = this.#clock.now() + this.#config.giveUpAfterSeconds * 1000;
    for (;;) {
      try {
        return await this.#sendOnce();
      } catch (error) {
        const delay = backoff.next();
        if (!notYet.has(error as Error) || this.#clock.now() + delay > giveUpAt) throw error;
        await this.#clock.sleep(delay, superseded);
      }
    }
  }

  async #sendOnce(): Promise<void> {
    const { signal, processName } = this.#config;
    if (processName === undefined) {
      if (!this.#app)
        throw new SidecarError(
          ConfigErrorCodes.NOTIFY,
          `Cannot send ${signal}: there is no app (use sidecar run, or set processName in a Pod with shareProcessNamespace)`,
        );
      if (!this.#app.signal(signal))
        throw new SidecarError(
          ConfigErrorCodes.NOTIFY,
          `Cannot send ${signal}: the app is not running`,
        );
      return;
    }
    const pids = await findProcesses(processName, this.#procRoot);
    if (pids.length === 0)
      throw notRunning(
        `Cannot send ${signal}: no process named "${processName}" (in a Pod, set shareProcessNamespace: true)`,
      );
    const failed: string[] = [];
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch (error) {
        failed.push(`${pid}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
    if (failed.length === pids.length)
      throw new SidecarError(
        ConfigErrorCodes.NOTIFY,
        `Cannot send ${signal} to "${processName}": ${failed.join(", ")}`,
      );
  }
}
