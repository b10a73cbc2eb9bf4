import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { captureLogger } from "../../runtime/testing.ts";
import { contentOf, type Manifest, type ManifestEntry, parseManifest } from "../manifest.ts";
import { pathFilter } from "../path-filter.ts";
import { Syncer, type SyncerOptions } from "../syncer.ts";
import { DirTarget, type DirTargetOptions } from "../targets/dir.ts";
import type { SyncTarget } from "../targets/target.ts";

/** A temp directory removed when the test ends, pass or fail. */
export async function tempDir(t: TestContext, name = "sync"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `sidecar-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (relative path → content) under `dir`, making parent directories. */
export async function writeFiles(
  dir: string,
  files: Record<string, string | Buffer>,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Moves a file's mtime back, so a rewrite with the same size is still seen as a change. */
export async function ageFile(path: string, seconds = 10): Promise<void> {
  const time = new Date(Date.now() - seconds * 1000);
  await utimes(path, time, time);
}

/** The `manifest.json` a directory target holds. */
export async function readLatest(targetDir: string): Promise<Manifest> {
  return parseManifest(await readFile(join(targetDir, "manifest.json"), "utf8"), "manifest.json");
}

/** The content an entry names at a directory target: its object, or its range of a pack. */
export async function contentAt(targetDir: string, entry: ManifestEntry): Promise<string> {
  const { key, range } = contentOf(entry);
  const bytes = await readFile(join(targetDir, key));
  return String(range ? bytes.subarray(range.offset, range.offset + range.length) : bytes);
}

/** A data dir, a directory target and a Syncer between them, with a capture logger. */
export async function syncFixture(
  t: TestContext,
  options: Partial<SyncerOptions> & {
    wrapTarget?: (target: SyncTarget) => SyncTarget;
    targetOptions?: DirTargetOptions;
  } = {},
) {
  const dataDir = await tempDir(t, "data");
  const targetDir = await tempDir(t, "target");
  const { logger, lines } = captureLogger();
  const base = new DirTarget(targetDir, options.targetOptions);
  t.after(() => base.close()); // its copy threads, when a pass started them
  const target = options.wrapTarget ? options.wrapTarget(base) : base;
  const syncer = new Syncer({
    dataDir,
    target,
    filter: pathFilter(["**"], []),
    deletes: "keep",
    retention: { versions: 10, maxAgeHours: 0 },
    logger,
    ...options,
  });
  return { dataDir, targetDir, target, syncer, logger, lines };
}

/**
 * A target that forwards to `target` except for the methods `overrides` replaces (fault
 * injection). `putFiles` is forwarded only when overridden: a wrapped directory target copies
 * small files through `putStream`, where the stream can be faulted.
 */
export function wrapTarget(target: SyncTarget, overrides: Partial<SyncTarget>): SyncTarget {
  return {
    description: target.description,
    put: (key, data) => target.put(key, data),
    putStream: (key, open, size) => target.putStream(key, open, size),
    get: (key) => target.get(key),
    getText: (key) => target.getText(key),
    list: (prefix, options) => target.list(prefix, options),
    delete: (keys) => target.delete(keys),
    flush: () => target.flush(),
    recover: () => target.recover(),
    ...(target.checkUnnamed
      ? { checkUnnamed: (keys: readonly string[]) => target.checkUnnamed!(keys) }
      : {}),
    close: () => target.close(),
    ...overrides,
  };
}
