import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCodes, SidecarError } from "../errors.ts";
import type { AppOutputTap } from "./app-output.ts";
import type { ExitStatus } from "./exit-status.ts";

/**
 * One run of the app: a child in its own process group (so signals reach everything it
 * started), stdout/stderr passed through (and also fed to a tap, for the logs role, when given).
 */
export class AppProcess {
  readonly #child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  readonly startedAt = performance.now();
  #status: ExitStatus | undefined;

  private constructor(child: ChildProcess, tap: AppOutputTap | undefined) {
    this.#child = child;
    const piped = tap
      ? [
          tee(child.stdout!, process.stdout, "stdout", tap),
          tee(child.stderr!, process.stderr, "stderr", tap),
        ]
      : [];
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#status = { code, signal };
        // The last output may still be in the pipes: wait for them (briefly: a grandchild may hold them).
        void Promise.race([Promise.all(piped), sleep(2000)]).then(() => resolve(this.#status!));
      });
    });
  }

  /** Spawns `command`; rejects with APP_NOT_FOUND (127) or APP_NOT_EXECUTABLE (126) when it cannot run. */
  static spawn(
    command: readonly string[],
    env: NodeJS.ProcessEnv,
    tap?: AppOutputTap,
  ): Promise<AppProcess> {
    const [file, ...args] = command;
    if (!file)
      throw new SidecarError(
        ErrorCodes.USAGE,
        "No app command given: write it after --, e.g. sidecar run -- node app.js",
      );
    return new Promise((resolve, reject) => {
      const child: ChildProcess = spawn(file, args, {
        stdio: tap ? ["inherit", "pipe", "pipe"] : "inherit",
        detached: true,
        env,
      });
      child.once("spawn", () => resolve(new AppProcess(child, tap)));
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

/** Copies the app's `from` to the terminal and the tap; pauses the app's pipe while the tap is full. */
async function tee(
  from: Readable,
  to: Writable,
  stream: "stdout" | "stderr",
  tap: AppOutputTap,
): Promise<void> {
  from.on("data", (chunk: Buffer) => {
    to.write(chunk);
    if (!tap.write(stream, chunk)) {
      from.pause();
      tap.onDrain(() => from.resume());
    }
  });
  await once(from, "close").catch(() => {});
  tap.end(stream);
}
