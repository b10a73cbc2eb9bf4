import { basename, join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";

/** Directories deeper than this below the source's path are not read (a symlink loop ends here). */
const maxDepth = 8;

/**
 * Reads a file (one entry named after it) or a directory (one entry per regular file, nested as
 * `a/b`; names starting with `..` are Kubernetes' own and skipped). A directory with a `..data`
 * link (a mounted ConfigMap or Secret) is read through that link's target, and read again when
 * the target changed meanwhile, so the entries are always of one version.
 */
export async function readTree(
  path: string,
): Promise<{ entries: Map<string, Buffer>; single: boolean }> {
  const stat = await fs.promises.stat(path);
  if (!stat.isDirectory())
    return { entries: new Map([[basename(path), await fs.promises.readFile(path)]]), single: true };
  for (let attempt = 0; ; attempt++) {
    const before = await dataTarget(path);
    const entries = new Map<string, Buffer>();
    try {
      await readDir(before ?? path, "", entries, 0);
    } catch (error) {
      // The version being read was removed by a swap: read the new one.
      if (before === undefined || attempt >= 5 || !isGone(error)) throw error;
      continue;
    }
    if (before === undefined || (await dataTarget(path)) === before || attempt >= 5)
      return { entries, single: false };
  }
}

async function dataTarget(dir: string): Promise<string | undefined> {
  try {
    return await fs.promises.realpath(join(dir, "..data"));
  } catch {
    return undefined;
  }
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

async function readDir(
  dir: string,
  prefix: string,
  entries: Map<string, Buffer>,
  depth: number,
): Promise<void> {
  const names = (await fs.promises.readdir(dir)).filter((n) => !n.startsWith("..")).sort();
  for (const name of names) {
    const full = join(dir, name);
    let stat: import("node:fs").Stats;
    try {
      stat = await fs.promises.stat(full);
    } catch (error) {
      // A dangling link is not an entry; a file removed meanwhile is seen by the next read.
      if (isGone(error)) continue;
      throw error;
    }
    if (stat.isDirectory()) {
      if (depth < maxDepth) await readDir(full, `${prefix}${name}/`, entries, depth + 1);
    } else if (stat.isFile()) {
      entries.set(`${prefix}${name}`, await fs.promises.readFile(full));
    }
  }
}
