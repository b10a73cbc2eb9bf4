import { join, relative, sep } from "node:path";
import { fs } from "../runtime/builtins.ts";
import { SidecarError } from "../runtime/errors.ts";
import { SyncErrorCodes } from "./error-codes.ts";

/** What the scan records of each regular file: enough to tell whether it changed. */
export interface ScannedFile {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
}

const statBatch = 64;

/**
 * Lists the regular files under `dataDir` that `filter` keeps (symlinks, sockets and empty
 * directories are not synced). A file that vanishes between listing and stat is left out.
 * A missing data directory scans as empty.
 *
 * @example
 * const files = await scanDataDir("/data", pathFilter(["**"], []));
 */
export async function scanDataDir(
  dataDir: string,
  filter: (path: string) => boolean,
): Promise<Map<string, ScannedFile>> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.promises.readdir(dataDir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new SidecarError(SyncErrorCodes.SOURCE, `Cannot list data directory "${dataDir}"`, {
      cause: error,
    });
  }
  const candidates: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const rel = relative(dataDir, join(entry.parentPath, entry.name)).split(sep).join("/");
    if (filter(rel)) candidates.push(rel);
  }
  candidates.sort();
  const files = new Map<string, ScannedFile>();
  for (let i = 0; i < candidates.length; i += statBatch) {
    const batch = candidates.slice(i, i + statBatch);
    const stats = await Promise.all(
      batch.map((rel) => fs.promises.lstat(join(dataDir, rel)).catch(() => undefined)),
    );
    for (const [index, stat] of stats.entries()) {
      if (!stat?.isFile()) continue;
      const rel = batch[index]!;
      files.set(rel, {
        path: rel,
        size: stat.size,
        mtimeMs: stat.mtimeMs,
        ino: stat.ino,
        mode: stat.mode & 0o7777,
      });
    }
  }
  return files;
}
