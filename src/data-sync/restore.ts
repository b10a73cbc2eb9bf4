import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fs } from "../runtime/builtins.ts";
import { describeError, SidecarError } from "../runtime/errors.ts";
import { fsyncDir } from "../runtime/files/atomic-file.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import { sha256Of, verifyingStream } from "./copy.ts";
import { eachAtOnce } from "./each-at-once.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import {
  type ByteRange,
  contentOf,
  type Manifest,
  type ManifestEntry,
  objectKey,
} from "./manifest.ts";
import { internalPrefix } from "./path-filter.ts";
import { Repository } from "./repository.ts";
import { volumeNames } from "./scan.ts";
import type { SyncMetrics } from "./sync-metrics.ts";
import { syncFilesystemIfAny } from "./targets/syncfs.ts";
import type { SyncTarget } from "./targets/target.ts";

/** Present in the data directory while a restore moves files into it; a restore that finds it starts over. */
export const incompleteMarker = `${internalPrefix}restore-incomplete`;

export interface RestoreProgress {
  files: number;
  filesTotal: number;
  bytes: number;
  bytesTotal: number;
}

export interface RestoreOptions {
  dataDir: string;
  target: SyncTarget;
  /** Replace a data directory that is not empty. */
  force?: boolean;
  /** The newest version at or before this time (ms since the epoch). */
  at?: number;
  /** This version number. */
  version?: number;
  /** Also restore files kept after they were deleted (`deletes: keep`). */
  includeDeleted?: boolean;
  concurrency?: number;
  logger: Logger;
  metrics?: SyncMetrics;
  onProgress?: (progress: RestoreProgress) => void;
  /**
   * How the restored files are made durable before they are moved into place: one syncfs(2)
   * of their filesystem (default: `sync -f`, when a `sync` command is on PATH), or, when false
   * or when it fails, an fsync of each file and directory.
   */
  syncFilesystem?: ((path: string) => Promise<void>) | false;
}

export type RestoreResult =
  | { status: "restored"; version: number; createdAt: string; files: number; bytes: number }
  | { status: "nothing-to-restore"; reason: string }
  | { status: "not-empty" };

type DirState = "missing" | "empty" | "incomplete" | "not-empty";

async function inspect(dataDir: string): Promise<{ state: DirState; leftovers: string[] }> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { state: "missing", leftovers: [] };
    throw new SidecarError(SyncErrorCodes.SOURCE, `Cannot read data directory "${dataDir}"`, {
      cause: error,
    });
  }
  if (names.includes(incompleteMarker)) return { state: "incomplete", leftovers: [] };
  const leftovers = names.filter((name) => name.startsWith(internalPrefix));
  const data = names.filter((name) => !name.startsWith(internalPrefix) && !volumeNames.has(name));
  const state = data.length === 0 ? "empty" : "not-empty";
  return { state, leftovers };
}

/**
 * Restores a version from the target into the data directory: only into an empty or missing
 * directory unless `force`; every file is checked against the manifest's SHA-256 and size
 * (SIDECAR_ERR_SYNC_VERIFY on a mismatch: nothing is changed); files are written into a
 * staging directory on the same filesystem first, then renamed into place — the whole
 * directory at once when it did not exist, else entry by entry under a marker that makes an
 * interrupted restore start over (a mounted volume cannot itself be renamed).
 *
 * @example
 * const result = await restore({ dataDir: "/data", target, logger });
 * if (result.status === "restored") …
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const { dataDir, target, logger } = options;
  const repository = new Repository(target);
  let manifest: Manifest | undefined;
  if (options.version !== undefined) manifest = await repository.byNumber(options.version);
  else if (options.at !== undefined) manifest = await repository.at(options.at);
  else manifest = await repository.latest();
  if (!manifest) {
    const reason =
      options.version !== undefined
        ? `the target holds no version ${options.version}`
        : options.at !== undefined
          ? `the target holds no version from ${new Date(options.at).toISOString()} or before`
          : "the target holds no backup";
    return { status: "nothing-to-restore", reason };
  }
  const { state, leftovers } = await inspect(dataDir);
  if (state === "not-empty" && !options.force) return { status: "not-empty" };
  const files = manifest.files.filter((entry) => options.includeDeleted || !entry.deletedAt);
  const bytesTotal = files.reduce((sum, entry) => sum + entry.size, 0);
  logger.info(
    {
      version: manifest.version,
      createdAt: manifest.createdAt,
      files: files.length,
      bytes: bytesTotal,
      dataDir,
      state,
    },
    "restore started",
  );
  const suffix = randomBytes(6).toString("hex");
  const inPlace = state !== "missing";
  const staging = inPlace
    ? join(dataDir, `${internalPrefix}restore-${suffix}`)
    : join(dirname(dataDir), `.${basename(dataDir)}${internalPrefix}restore-${suffix}`);
  try {
    for (const name of leftovers)
      await fs.promises.rm(join(dataDir, name), { recursive: true, force: true });
    await fs.promises.mkdir(staging, { recursive: true });
    const syncfs = options.syncFilesystem ?? syncFilesystemIfAny();
    const written = await download(files, staging, { ...options, bytesTotal, fsyncEach: !syncfs });
    if (syncfs) await durable(staging, written, syncfs, logger);
    if (inPlace) await moveInto(staging, dataDir, suffix);
    else {
      await fs.promises.rename(staging, dataDir);
      await fsyncDir(dirname(dataDir));
    }
  } catch (error) {
    await fs.promises.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  options.metrics?.filesRestored.inc(files.length);
  logger.info(
    { version: manifest.version, files: files.length, bytes: bytesTotal },
    "restore done",
  );
  return {
    status: "restored",
    version: manifest.version,
    createdAt: manifest.createdAt,
    files: files.length,
    bytes: bytesTotal,
  };
}

/**
 * Packed files read per request at most: a pack's files are restored from one read of the
 * range they span (packs hold up to 1 MiB), instead of a request each.
 */
const packReadBytes = 8 * 1024 * 1024;

/**
 * What to read, one request each: a file in its own object, or the files of one pack.
 * 10 000 small files packed by 32: ~300 requests instead of 10 000.
 */
function readsOf(files: readonly ManifestEntry[]): ManifestEntry[][] {
  const reads: ManifestEntry[][] = [];
  const byPack = new Map<string, ManifestEntry[]>();
  for (const entry of files) {
    if (entry.pack === undefined) {
      reads.push([entry]);
      continue;
    }
    const packed = byPack.get(entry.pack) ?? [];
    if (packed.length === 0) {
      byPack.set(entry.pack, packed);
      reads.push(packed);
    }
    packed.push(entry);
  }
  return reads;
}

/**
 * Makes the restored files and directories durable with one syncfs of their filesystem (10 000
 * files: one call, where an fsync each took ~3 s); when it fails (a `sync` without `-f`, a
 * filesystem that refuses it), with an fsync of each, many at once.
 */
async function durable(
  staging: string,
  written: { files: string[]; dirs: string[] },
  syncfs: (path: string) => Promise<void>,
  logger: Logger,
): Promise<void> {
  try {
    await syncfs(staging);
    return;
  } catch (error) {
    logger.warn(
      { error: describeError(error) },
      "syncfs of the restored files failed; fsyncing each",
    );
  }
  await eachAtOnce([...written.files, ...written.dirs, staging], 16, async (path) => {
    const handle = await fs.promises.open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Writes every entry under `dir`, checked against its SHA-256, with its mode and mtime (and
 * fsynced, with `fsyncEach`); returns the files written and the directories made.
 */
async function download(
  files: readonly ManifestEntry[],
  dir: string,
  options: RestoreOptions & { bytesTotal: number; fsyncEach: boolean },
): Promise<{ files: string[]; dirs: string[] }> {
  const progress: RestoreProgress = {
    files: 0,
    filesTotal: files.length,
    bytes: 0,
    bytesTotal: options.bytesTotal,
  };
  const made = new Set<string>();
  const written: string[] = [];
  const pathOf = async (entry: ManifestEntry) => {
    const path = join(dir, ...entry.path.split("/"));
    written.push(path);
    for (
      let parent = dirname(path);
      parent !== dir && !made.has(parent);
      parent = dirname(parent)
    ) {
      await fs.promises.mkdir(parent, { recursive: true });
      made.add(parent);
    }
    return path;
  };
  /** A file restored whole; `streamed`: its bytes, counted as they came. */
  const restored = (entry: ManifestEntry, streamed = false) => {
    progress.files += 1;
    if (!streamed) progress.bytes += entry.size;
    options.onProgress?.(progress);
  };
  await eachAtOnce(readsOf(files), options.concurrency ?? 4, async (entries) => {
    if (entries.length > 1 && spanOf(entries).length <= packReadBytes)
      return downloadPacked(entries, pathOf, options, restored);
    for (const entry of entries) {
      await downloadOne(entry, await pathOf(entry), options, (bytes) => {
        progress.bytes += bytes;
      });
      restored(entry, true);
    }
  });
  return { files: written, dirs: [...made] };
}

/** The range of their pack that packed entries span. */
function spanOf(entries: readonly ManifestEntry[]): ByteRange {
  let start = Infinity;
  let end = 0;
  for (const { offset = 0, size } of entries) {
    start = Math.min(start, offset);
    end = Math.max(end, offset + size);
  }
  return { offset: start, length: end - start };
}

function corrupt(entry: ManifestEntry, target: SyncTarget, detail: string): SidecarError {
  const { key, range } = contentOf(entry);
  return new SidecarError(
    SyncErrorCodes.VERIFY,
    `Object "${key}"${range ? ` (${range.length} bytes at ${range.offset})` : ""} at ${target.description} for "${entry.path}" is corrupt: ${detail}`,
  );
}

function unreadable(entry: ManifestEntry, target: SyncTarget, error: unknown): SidecarError {
  if (error instanceof SidecarError) return error;
  return new SidecarError(
    SyncErrorCodes.TARGET,
    `Cannot restore "${entry.path}" from ${target.description}: ${describeError(error)}`,
    { cause: error },
  );
}

/** One file from its object (or its range of a pack), checked as it streams. */
async function downloadOne(
  entry: ManifestEntry,
  path: string,
  { target, fsyncEach }: { target: SyncTarget; fsyncEach: boolean },
  onBytes: (bytes: number) => void,
): Promise<void> {
  const { key, range } = contentOf(entry);
  const body = await target.get(key, range);
  const verify = verifyingStream(entry, (detail) => corrupt(entry, target, detail));
  body.once("error", (error) => verify.destroy(error));
  try {
    await writeRestored(entry, path, body.pipe(verify), fsyncEach, onBytes);
  } catch (error) {
    body.destroy();
    throw unreadable(entry, target, error);
  }
}

/** The files of one pack, from one read of the range they span, each checked before it is written. */
async function downloadPacked(
  entries: readonly ManifestEntry[],
  pathOf: (entry: ManifestEntry) => Promise<string>,
  { target, fsyncEach }: { target: SyncTarget; fsyncEach: boolean },
  restored: (entry: ManifestEntry) => void,
): Promise<void> {
  const span = spanOf(entries);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await target.get(objectKey(entries[0]!.pack!), span))
      chunks.push(chunk as Buffer);
  } catch (error) {
    throw unreadable(entries[0]!, target, error);
  }
  const bytes = Buffer.concat(chunks);
  for (const entry of entries) {
    const start = (entry.offset ?? 0) - span.offset;
    const content = bytes.subarray(start, start + entry.size);
    if (content.length !== entry.size)
      throw corrupt(entry, target, `${content.length} bytes, expected ${entry.size}`);
    const sha256 = sha256Of(content);
    if (sha256 !== entry.sha256)
      throw corrupt(entry, target, `SHA-256 ${sha256}, expected ${entry.sha256}`);
    const path = await pathOf(entry);
    try {
      writeRestoredSync(entry, path, content, fsyncEach);
    } catch (error) {
      throw unreadable(entry, target, error);
    }
    restored(entry);
  }
}

/**
 * A small restored file written with synchronous calls (open, write, close, chmod, utimes):
 * a thread-pool round trip each cost more than the calls (10 000 files: ~1 s).
 */
function writeRestoredSync(
  entry: ManifestEntry,
  path: string,
  content: Buffer,
  fsync: boolean,
): void {
  const fd = fs.openSync(path, "w", entry.mode & 0o777);
  try {
    for (let offset = 0; offset < content.length; )
      offset += fs.writeSync(fd, content, offset, content.length - offset);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(path, entry.mode & 0o7777);
  fs.utimesSync(path, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
}

/** Writes a restored file from its checked content (fsynced, with `fsync`), with its mode and mtime. */
async function writeRestored(
  entry: ManifestEntry,
  path: string,
  content: AsyncIterable<unknown> | Iterable<Buffer>,
  fsync: boolean,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const handle = await fs.promises.open(path, "w", entry.mode & 0o777);
  try {
    for await (const chunk of content) {
      await handle.write(chunk as Buffer);
      onBytes?.((chunk as Buffer).length);
    }
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.chmod(path, entry.mode & 0o7777);
  await fs.promises.utimes(path, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
}

/** Replaces the content of `dataDir` with the staging directory's, under the incomplete marker. */
async function moveInto(staging: string, dataDir: string, suffix: string): Promise<void> {
  const marker = join(dataDir, incompleteMarker);
  await fs.promises.writeFile(marker, `${new Date().toISOString()}\n`);
  await fsyncDir(dataDir);
  const old = join(dataDir, `${internalPrefix}replaced-${suffix}`);
  const keep = new Set([basename(staging), incompleteMarker, ...volumeNames]);
  const existing = (await fs.promises.readdir(dataDir)).filter((name) => !keep.has(name));
  if (existing.length > 0) {
    await fs.promises.mkdir(old);
    for (const name of existing) await fs.promises.rename(join(dataDir, name), join(old, name));
  }
  for (const name of await fs.promises.readdir(staging))
    await fs.promises.rename(join(staging, name), join(dataDir, name));
  await fsyncDir(dataDir);
  await fs.promises.rm(marker);
  await fsyncDir(dataDir);
  await fs.promises.rm(staging, { recursive: true, force: true });
  await fs.promises.rm(old, { recursive: true, force: true });
}
