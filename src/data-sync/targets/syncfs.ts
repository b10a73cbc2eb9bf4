import { execFile } from "node:child_process";
import { join } from "node:path";
import { fs } from "../../runtime/builtins.ts";

let found: string | null | undefined;

/**
 * The `sync` command on PATH (coreutils, busybox), or undefined. Its `-f` makes one syncfs(2)
 * of the filesystem holding a path, which Node has no call for.
 */
export function syncCommand(path = process.env.PATH ?? ""): string | undefined {
  if (found === undefined) {
    found = null;
    for (const dir of path.split(":").filter(Boolean)) {
      try {
        fs.accessSync(join(dir, "sync"), fs.constants.X_OK);
        found = join(dir, "sync");
        break;
      } catch {
        // not here
      }
    }
  }
  return found ?? undefined;
}

/**
 * Writes back everything the filesystem holding `path` has not written yet, data and
 * metadata (directory entries, renames), and waits for it: `sync -f path`, one syncfs(2).
 * Rejects when the command fails; a write error since the last syncfs is reported by Linux
 * 5.8 and later (earlier kernels return success).
 *
 * @example
 * await syncFilesystem("/backup");
 */
export function syncFilesystem(path: string, command = syncCommand()): Promise<void> {
  if (!command) return Promise.reject(new Error('No "sync" command on PATH'));
  return new Promise((resolve, reject) =>
    execFile(command, ["-f", path], { timeout: 10 * 60_000 }, (error, _stdout, stderr) =>
      error
        ? reject(new Error(`${command} -f ${path}: ${String(stderr).trim() || error.message}`))
        : resolve(),
    ),
  );
}

/** syncFilesystem where a `sync` command is on PATH, else false (an fsync of each file instead). */
export function syncFilesystemIfAny(): ((path: string) => Promise<void>) | false {
  return syncCommand() ? (path) => syncFilesystem(path) : false;
}
