import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fs } from "../runtime/builtins.ts";
import { describeError, SidecarError } from "../runtime/errors.ts";
import { fsyncDir } from "../runtime/files/atomic-file.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import { verifyingStream } from "./copy.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import { contentOf, type Manifest, type ManifestEntry } from "./manifest.ts";
import { internalPrefix } from "./path-filter.ts";
import { Repository } from "./repository.ts";
import { volumeNames } from "./scan.ts";
import type { SyncMetrics } from "./sync-metrics.ts";
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
    await download(files, staging, { ...options, bytesTotal });
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

/** Writes every entry under `dir`, checked against its SHA-256, with its mode and mtime. */
async function download(
  files: readonly ManifestEntry[],
  dir: string,
  options: RestoreOptions & { bytesTotal: number },
): Promise<void> {
  const progress: RestoreProgress = {
    files: 0,
    filesTotal: files.length,
    bytes: 0,
    bytesTotal: options.bytesTotal,
  };
  const made = new Set<string>();
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < files.length) {
      const entry = files[next++]!;
      const path = join(dir, ...entry.path.split("/"));
      try {
        const parent = dirname(path);
        if (!made.has(parent)) {
          await fs.promises.mkdir(parent, { recursive: true });
          made.add(parent);
        }
        await downloadOne(entry, path, options.target, (bytes) => {
          progress.bytes += bytes;
        });
        progress.files += 1;
        options.onProgress?.(progress);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 4, Math.max(1, files.length)) }, worker),
  );
  if (failure !== undefined) throw failure;
}

async function downloadOne(
  entry: ManifestEntry,
  path: string,
  target: SyncTarget,
  onBytes: (bytes: number) => void,
): Promise<void> {
  const { key, range } = contentOf(entry);
  const body = await target.get(key, range);
  const verify = verifyingStream(
    entry,
    (detail) =>
      new SidecarError(
        SyncErrorCodes.VERIFY,
        `Object "${key}"${range ? ` (${range.length} bytes at ${range.offset})` : ""} at ${target.description} for "${entry.path}" is corrupt: ${detail}`,
      ),
  );
  const handle = await fs.promises.open(path, "w", entry.mode & 0o777);
  try {
    body.once("error", (error) => verify.destroy(error));
    for await (const chunk of body.pipe(verify)) {
      await handle.write(chunk as Buffer);
      onBytes((chunk as Buffer).length);
    }
    await handle.sync();
  } catch (error) {
    body.destroy();
    if (error instanceof SidecarError) throw error;
    throw new SidecarError(
      SyncErrorCodes.TARGET,
      `Cannot restore "${entry.path}" from ${target.description}: ${describeError(error)}`,
      { cause: error },
    );
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
