import { type ChildProcess, spawn } from "node:child_process";
import { ErrorCodes, SidecarError } from "../errors.ts";
import type { ExitStatus } from "./exit-status.ts";

/**
 * One run of the app: a child in its own process group (so signals reach everything it
 * started), stdout/stderr passed through.
 */
export class AppProcess {
  readonly #child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  readonly startedAt = performance.now();
  #status: ExitStatus | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#status = { code, signal };
        resolve(this.#status);
      });
    });
  }

  /** Spawns `command`; rejects with APP_NOT_FOUND (127) or APP_NOT_EXECUTABLE (126) when it cannot run. */
  static spawn(command: readonly string[], env: NodeJS.ProcessEnv): Promise<AppProcess> {
    const [file, ...args] = command;
    if (!file)
      throw new SidecarError(
        ErrorCodes.USAGE,
        "No app command given: write it after --, e.g. sidecar run -- node app.js",
      );
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { stdio: "inherit", detached: true, env });
      child.once("spawn", () => resolve(new AppProcess(child)));
      child.once("error", (error: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return; // an error after spawn (e.g. kill failed) is not a spawn failure
        if (error.code === "ENOENT") {
          reject(
            new SidecarError(
              ErrorCodes.APP_NOT_FOUND,
              `App command "${file}" not found: check the command after -- and the PATH`,
              { cause: error },
            ),
          );
        } else if (error.code === "EACCES") {
          reject(
            new SidecarError(
              ErrorCodes.APP_NOT_EXECUTABLE,
              `App command "${file}" cannot be executed: permission denied`,
              { cause: error },
            ),
          );
        } else {
          reject(
            new SidecarError(
              ErrorCodes.APP_SPAWN,
              `App command "${file}" failed to start: ${error.code ?? error.message}`,
              { cause: error },
            ),
          );
        }
      });
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get running(): boolean {
    return this.#status === undefined;
  }

  /** Sends `signal` to the app's whole process group; false when it is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
