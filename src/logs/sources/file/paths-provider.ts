import type { FSWatcher } from "node:fs";
import { glob } from "node:fs/promises";
import { isAbsolute, matchesGlob, resolve, sep } from "node:path";
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
 * Finds the files to tail: globs with excludes, plus an inotify watch (fs.watch) on the fixed
 * directory part of each pattern so new files and appends are noticed at once. Watching may fail
 * (some network filesystems, inotify limits); the file source rescans periodically anyway.
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

  /** Starts watching the fixed directory of each pattern; returns the directories that could not be watched. */
  watch(): string[] {
    const failed: string[] = [];
    for (const dir of new Set(this.#include.map(fixedDirectory))) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = fs.watch(dir, { persistent: false }, (event, name) =>
          this.#onChange?.(name ? resolve(dir, name.toString()) : undefined, event),
        );
        watcher.on("error", () => {
          watcher.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, watcher);
      } catch {
        failed.push(dir);
      }
    }
    return failed;
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
