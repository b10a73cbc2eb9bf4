import { SidecarError } from "../../runtime/errors.ts";
import type { AppHandle } from "../../runtime/role-definition.ts";
import { ConfigErrorCodes } from "../error-codes.ts";
import { findProcesses } from "./find-processes.ts";
import type { SignalNotifyConfig } from "./notify-config.ts";
import type { NotifyTarget } from "./notify-target.ts";

/**
 * Sends a signal (SIGHUP by default): to the processes named `processName` (a Pod with
 * `shareProcessNamespace: true`), else to the app `sidecar run` supervises.
 */
export class SignalNotifyTarget implements NotifyTarget {
  readonly kind = "signal";
  readonly describe: string;
  readonly #config: SignalNotifyConfig;
  readonly #app: AppHandle | undefined;
  readonly #procRoot: string;

  constructor(config: SignalNotifyConfig, app: AppHandle | undefined, procRoot = "/proc") {
    this.#config = config;
    this.#app = app;
    this.#procRoot = procRoot;
    this.describe = `${config.signal} to ${config.processName ? `processes named "${config.processName}"` : "the app"}`;
  }

  async send(): Promise<void> {
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
      throw new SidecarError(
        ConfigErrorCodes.NOTIFY,
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
