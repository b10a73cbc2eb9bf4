import { spawn } from "node:child_process";
import { SidecarError } from "../runtime/errors.ts";
import { SyncErrorCodes } from "./error-codes.ts";

export interface PreSyncHook {
  command: readonly string[];
  timeoutSeconds: number;
}

/**
 * Runs the pre-sync command in `cwd` (the data directory) and resolves when it exits 0;
 * rejects with SIDECAR_ERR_SYNC_HOOK on another exit code, a signal, a timeout or a spawn
 * failure, with the end of its stderr in the message.
 *
 * @example
 * await runPreSyncHook({ command: ["sqlite3", "app.db", ".backup snap.db"], timeoutSeconds: 60 }, "/data");
 */
export function runPreSyncHook(
  hook: PreSyncHook,
  cwd: string,
  signal?: AbortSignal,
): Promise<void> {
  const [file, ...args] = hook.command;
  const shown = hook.command.join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
      timeout: hook.timeoutSeconds * 1000,
      killSignal: "SIGKILL",
      ...(signal ? { signal } : {}),
      env: { ...process.env, SIDECAR_SYNC_DATA_DIR: cwd },
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-500);
    });
    const fail = (detail: string, cause?: unknown) =>
      reject(
        new SidecarError(SyncErrorCodes.HOOK, `Pre-sync command "${shown}" ${detail}`, {
          cause,
        }),
      );
    child.once("error", (error) => fail(`could not run: ${error.message}`, error));
    child.once("close", (code, killed) => {
      const tail = stderr.trim() ? `: ${stderr.trim()}` : "";
      if (code === 0) resolve();
      else if (killed) fail(`was stopped by ${killed} (timeout ${hook.timeoutSeconds} s)${tail}`);
      else if (code !== null) fail(`exited with code ${code}${tail}`);
    });
  });
}
