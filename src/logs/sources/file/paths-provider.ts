import type { FSWatcher } from "node:fs";
import { glob, stat } from "node:fs/promises";
import { dirname, isAbsolute, matchesGlob, resolve, sep } from "node:path";
import { fs } from "../../../runtime/builtins.ts";

export interface PathsProviderOptions {
  /** Glob patterns of the files to tail. */
  include: readonly string[];
  /** Glob patterns of paths never to tail (applied after include), e.g. `*.gz`. */
  exclude?: readonly string[];
  /** Called with the path when something changes in a watched directory ("rename": created, renamed or deleted). */
  onChange?: (path: string | undefined, event: "rename" | "change") => void;
}

const globChars = /[*?[\]{}]/;

/**
 * Finds the files to tail: globs with excludes, plus inotify watches (fs.watch) so that new files
 * and appends are noticed at once. Every directory a pattern can match a file in is watched: for
 * the kubelet's `/var/log/pods/<pod>/<container>/<n>.log`, globbed with a star in place of each
 * name, that is `/var/log/pods`, each pod directory and each container directory. `**` watches
 * its fixed directory recursively. A directory that does not exist yet is replaced by its nearest
 * existing ancestor (watched plainly, never `/`), so its creation is noticed too. `watch()` again after a change (the file
 * source does on each scan) follows new and removed directories. Watching may fail (some network
 * filesystems, inotify limits); the file source rescans periodically anyway.
 */
export class PathsProvider {
  readonly #include: string[];
  readonly #exclude: string[];
  readonly #onChange: ((path: string | undefined, event: "rename" | "change") => void) | undefined;
  readonly #watchers = new Map<string, FSWatcher>();

  constructor({ include, exclude = [], onChange }: PathsProviderOptions) {
    if (include.length === 0)
      throw new TypeError("PathsProvider needs at least one include pattern");
    this.#include = include.map((p) => resolve(p));
    this.#exclude = exclude.map((p) => (isAbsolute(p) || p.includes("/") ? resolve(p) : p));
    this.#onChange = onChange;
  }

  /** The paths matching an include pattern and no exclude pattern, sorted. */
  async list(): Promise<string[]> {
    const found = new Set<string>();
    for await (const path of glob(this.#include)) {
      if (!this.excluded(path)) found.add(resolve(path));
    }
    return [...found].sort();
  }

  /** Whether `path` matches an include pattern and no exclude pattern. */
  matches(path: string): boolean {
    return this.#include.some((pattern) => matchesGlob(path, pattern)) && !this.excluded(path);
  }

  /** Whether `path` matches an exclude pattern (a pattern without "/" matches the base name). */
  excluded(path: string): boolean {
    return this.#exclude.some((pattern) =>
      pattern.includes("/")
        ? matchesGlob(path, pattern)
        : matchesGlob(path.slice(path.lastIndexOf(sep) + 1), pattern),
    );
  }

  /**
   * Watches every directory a pattern can match a file in (see the class comment) and stops
   * watching those that no pattern reaches any more; returns the directories that could not be
   * watched. When it adds a watch it reports a change: a directory created between finding the
   * targets and watching them (`mkdir -p a/b` as `a` is being watched) sent no event anyone
   * heard, and the rescan that follows finds it.
   */
  async watch(): Promise<string[]> {
    const wanted = new Map<string, boolean>(); // directory → recursive
    for (const pattern of this.#include) {
      for (const [dir, recursive] of await watchTargets(pattern))
        wanted.set(dir, recursive || (wanted.get(dir) ?? false));
    }
    for (const [dir, watcher] of this.#watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.#watchers.delete(dir);
    }
    const failed: string[] = [];
    let added = false;
    for (const [dir, recursive] of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = fs.watch(dir, { persistent: false, recursive }, (event, name) =>
          this.#onChange?.(name ? resolve(dir, name.toString()) : undefined, event),
        );
        watcher.on("error", () => {
          watcher.close();
          if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir);
          this.#onChange?.(undefined, "rename"); // gone: rescan, and watch what is there now
        });
        this.#watchers.set(dir, watcher);
        added = true;
      } catch {
        failed.push(dir);
      }
    }
    if (added) this.#onChange?.(undefined, "rename");
    return failed;
  }

  /** The directories being watched (for tests and diagnostics). */
  watchedDirectories(): string[] {
    return [...this.#watchers.keys()].sort();
  }

  close(): void {
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }
}

/** The directory part of a pattern before its first glob character: `/var/log/*.log` → `/var/log`. */
export function fixedDirectory(pattern: string): string {
  const parts = pattern.split(sep);
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (globChars.test(part)) break;
    fixed.push(part);
  }
  return fixed.join(sep) || sep;
}

/**
 * The directories to watch for one include pattern, each with whether to watch recursively:
 * every directory its directory part matches, `**` as a recursive watch of the fixed part, and
 * for a directory that does not exist, its nearest existing ancestor.
 */
async function watchTargets(pattern: string): Promise<Array<[string, boolean]>> {
  const dirPattern = dirname(pattern);
  const fixed = fixedDirectory(pattern);
  const existing = await existingAncestor(fixed);
  // Never `/` in place of a directory that is missing, and never `/` recursively: that would
  // watch the whole machine. The periodic rescan finds such a directory once it exists.
  if (existing === sep && (fixed !== sep || dirPattern.includes("**"))) return [];
  // `**` is a recursive watch of its fixed directory; until that exists, a plain watch of the
  // nearest ancestor notices its creation.
  if (dirPattern.includes("**")) return [[existing, existing === fixed]];
  const parts = dirPattern.split(sep);
  const targets: Array<[string, boolean]> = [[existing, false]];
  let prefix = fixed;
  const fixedDepth = prefix === sep ? 1 : prefix.split(sep).length;
  for (const part of parts.slice(fixedDepth)) {
    // Past the fixed directory every prefix holds a glob character.
    prefix = prefix.endsWith(sep) ? `${prefix}${part}` : `${prefix}${sep}${part}`;
    for await (const entry of glob(prefix, { withFileTypes: true })) {
      if (entry.isDirectory()) targets.push([resolve(entry.parentPath, entry.name), false]);
    }
  }
  return targets;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** `dir` if it is a directory, else its nearest ancestor that is. */
async function existingAncestor(dir: string): Promise<string> {
  let current = dir;
  while (!(await isDirectory(current))) {
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
  return current;
}
