import type { FSWatcher } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fs } from "../builtins.ts";
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import type { Logger } from "../telemetry/logger.ts";

export interface PathWatcherOptions {
  /** Quiet time after the last event before onChange runs. Default 100. */
  debounceMs?: number;
  /** Polling period of the fallback and safety net. Default 2000. */
  pollIntervalMs?: number;
  clock?: Clock;
  /** Aborting closes the watcher. */
  signal?: AbortSignal;
  /** Poll only, without fs.watch (file systems without inotify, tests of the fallback). Default false. */
  usePolling?: boolean;
  /** Where an onChange that throws or rejects is reported (warn); unreported without one. */
  logger?: Logger;
}

/**
 * Watches a file or a directory (non-recursive) and calls onChange (debounced, never
 * concurrently: a change seen while it runs calls it once more afterwards) when its content may
 * have changed: plain edits, create/delete, renames, and Kubernetes' `..data` symlink swap of
 * mounted ConfigMaps/Secrets (a visible file is a symlink into ..data/; the watch follows the
 * swap). fs.watch where it works, with polling of (realpath, inode, size, mtime) as a fallback and
 * safety net. A path that does not exist yet is watched until it appears.
 *
 * onChange runs only when that signature differs from the one it last saw, so events about
 * neighbours in the same directory cost a few stat calls and nothing more.
 *
 * @example
 * const watcher = watchPath("/etc/sidecar/app.yaml", () => reload(), { signal });
 * watcher.close();
 */
export function watchPath(
  path: string,
  onChange: () => void | Promise<void>,
  options: PathWatcherOptions = {},
): { close(): void } {
  const {
    debounceMs = 100,
    pollIntervalMs = 2000,
    clock = systemClock,
    signal,
    usePolling = false,
    logger,
  } = options;
  const target = resolve(path);
  const watchers = new Map<string, FSWatcher>();
  let seen = signatureOf(target);
  let closed = false;
  let debounce: TimerHandle | undefined;
  let running = false;
  let dirty = false;

  const schedule = () => {
    if (closed) return;
    debounce?.cancel();
    debounce = clock.setTimeout(check, debounceMs);
  };

  const check = () => {
    debounce = undefined;
    if (closed) return;
    if (!usePolling) arm();
    const now = signatureOf(target);
    if (now === seen) return;
    seen = now;
    dirty = true;
    drain();
  };

  const drain = () => {
    if (running || !dirty || closed) return;
    dirty = false;
    running = true;
    Promise.resolve()
      .then(onChange)
      .catch((error: unknown) =>
        logger?.warn({ error, path: target }, `Change handler for "${target}" failed`),
      )
      .finally(() => {
        running = false;
        drain();
      });
  };

  /** Watches the directories whose events can mean a change of `target`, and only those. */
  const arm = () => {
    const wanted = directoriesToWatch(target);
    for (const [dir, watcher] of watchers)
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = fs.watch(dir, { persistent: false }, schedule);
        watcher.on("error", () => {
          // The directory went away (or inotify gave up): polling carries on, the next check re-arms.
          watcher.close();
          if (watchers.get(dir) === watcher) watchers.delete(dir);
          schedule();
        });
        watchers.set(dir, watcher);
      } catch {
        // No inotify watch left, or the directory vanished meanwhile: polling covers it.
      }
    }
  };

  if (!usePolling) arm();
  const poll = clock.setInterval(() => {
    if (!closed && signatureOf(target) !== seen) schedule();
  }, pollIntervalMs);

  const close = () => {
    if (closed) return;
    closed = true;
    debounce?.cancel();
    poll.cancel();
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
    signal?.removeEventListener("abort", close);
  };
  if (signal?.aborted) close();
  else signal?.addEventListener("abort", close, { once: true });
  return { close };
}

/**
 * For a directory: itself (its entries) and its parent (it being replaced). For a file: its
 * directory (edits, renames, the `..data` swap next to it) and, when it is a symlink, the
 * directory it resolves into. For a missing path: the nearest directory that exists.
 */
function directoriesToWatch(target: string): Set<string> {
  const dirs = new Set<string>();
  const stat = statOrUndefined(target);
  if (stat?.isDirectory()) {
    dirs.add(target);
    dirs.add(dirname(target));
    return dirs;
  }
  if (stat) {
    dirs.add(dirname(target));
    const real = realpathOrUndefined(target);
    if (real) dirs.add(dirname(real));
    return dirs;
  }
  let dir = dirname(target);
  while (!statOrUndefined(dir)?.isDirectory() && dirname(dir) !== dir) dir = dirname(dir);
  dirs.add(dir);
  return dirs;
}

/** What changes when the content may have: for a file its real path, inode, size and times; for a directory the same of each entry. */
function signatureOf(target: string): string {
  const stat = statOrUndefined(target);
  if (!stat) return "missing";
  const self = `${realpathOrUndefined(target)}|${describe(stat)}`;
  if (!stat.isDirectory()) return `file|${self}`;
  let names: string[];
  try {
    names = fs.readdirSync(target).sort();
  } catch {
    return `dir|${self}|unreadable`;
  }
  const entries = names.map((name) => {
    const entry = statOrUndefined(join(target, name));
    return `${name}=${entry ? describe(entry) : "dangling"}`;
  });
  return `dir|${self}|${entries.join("|")}`;
}

function describe(stat: import("node:fs").BigIntStats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

function statOrUndefined(path: string): import("node:fs").BigIntStats | undefined {
  try {
    return fs.statSync(path, { bigint: true, throwIfNoEntry: false }) ?? undefined;
  } catch {
    return undefined; // ENOTDIR, EACCES, a symlink loop: as good as missing
  }
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return fs.realpathSync(path);
  } catch {
    return undefined;
  }
}
