import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { crypto } from "../builtins.ts";

export interface WriteFileAtomicOptions {
  /** The file's permissions. Default 0o644. */
  mode?: number;
  /**
   * fsync the file before the rename and the directory after it, so the new content survives a
   * power loss. Default true; false still never shows a torn file, but a machine crash may bring
   * back the old one.
   */
  fsync?: boolean;
}

/**
 * Publishes `data` at `path` atomically: temp file in the same directory → write → fsync →
 * rename → fsync the directory. A reader sees the old or the new content, never a mix; a crash
 * leaves one of them. The temp file is removed when anything fails.
 *
 * @example
 * await writeFileAtomic("/var/lib/sidecar/state.json", JSON.stringify(state));
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  { mode = 0o644, fsync = true }: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path);
  // Unique per write, hidden, and in the same directory (a rename never crosses file systems).
  const tmp = join(
    dir,
    `.${basename(path)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`,
  );
  try {
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.writeFile(data);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw error;
  }
  if (fsync) await fsyncDir(dir);
}

/**
 * fsyncs a directory, which makes a rename into it (or a file created in it) durable.
 *
 * @example
 * await rename(tmp, path);
 * await fsyncDir(dirname(path));
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
