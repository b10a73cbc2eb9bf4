import { join } from "node:path";
import { fs } from "../runtime/builtins.ts";
import { SidecarError } from "../runtime/errors.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import { internalPrefix } from "./path-filter.ts";

/** What the scan records of each regular file: enough to tell whether it changed. */
export interface ScannedFile {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
}

const statWindow = 64;

/** Top-level names that belong to the volume, not the app (ext4's lost+found): never synced, never count as data. */
export const volumeNames: ReadonlySet<string> = new Set(["lost+found"]);

/**
 * Lists the regular files under `dataDir` that `filter` keeps (symlinks, sockets and empty
 * directories are not synced; nor is a top-level lost+found). A file that vanishes between
 * listing and stat is left out. A directory that cannot be read fails the scan
 * (SIDECAR_ERR_SYNC_SOURCE): its files must not look deleted. A missing data directory fails
 * it too when `mustExist` (a volume that is not mounted must not look like an empty app).
 *
 * @example
 * const files = await scanDataDir("/data", pathFilter(["**"], []));
 */
export async function scanDataDir(
  dataDir: string,
  filter: (path: string) => boolean,
  { mustExist = false }: { mustExist?: boolean } = {},
): Promise<Map<string, ScannedFile>> {
  const candidates: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.promises.readdir(rel ? join(dataDir, rel) : dataDir, {
        withFileTypes: true,
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && rel === "" && !mustExist) return;
      if (code === "ENOENT" && rel !== "") return; // removed while we walked: its files are gone
      throw new SidecarError(
        SyncErrorCodes.SOURCE,
        `Cannot list ${rel ? `"${rel}" in ` : ""}data directory "${dataDir}": ${code ?? String(error)}`,
        { cause: error },
      );
    }
    for (const entry of entries) {
      if (rel === "" && (volumeNames.has(entry.name) || entry.name.startsWith(internalPrefix)))
        continue;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && filter(path)) candidates.push(path);
    }
  };
  await walk("");
  candidates.sort();
  // A window of lstat calls in flight (callback API: no promise per call), results kept in order.
  const stats: (import("node:fs").Stats | undefined)[] = new Array(candidates.length);
  await new Promise<void>((resolve) => {
    let next = 0;
    let pending = 0;
    const launch = () => {
      while (pending < statWindow && next < candidates.length) {
        const index = next++;
        pending += 1;
        fs.lstat(join(dataDir, candidates[index]!), (error, stat) => {
          if (!error) stats[index] = stat;
          pending -= 1;
          if (next < candidates.length) launch();
          else if (pending === 0) resolve();
        });
      }
      if (candidates.length === 0) resolve();
    };
    launch();
  });
  const files = new Map<string, ScannedFile>();
  for (const [index, stat] of stats.entries()) {
    if (!stat?.isFile()) continue;
    const rel = candidates[index]!;
    files.set(rel, {
      path: rel,
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      ino: stat.ino,
      mode: stat.mode & 0o7777,
    });
  }
  return files;
}
