import { join } from "node:path";
import type { Readable } from "node:stream";
import { describeError, isSidecarError, SidecarError } from "../runtime/errors.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import { ContentIndex } from "./content-index.ts";
import {
  bufferStream,
  FileChangedError,
  FileGoneError,
  type FileIdentity,
  hashFile,
  readSmallFile,
  sameIdentity,
  sha256Of,
  smallFileBytes,
  sourceStream,
  statIdentity,
} from "./copy.ts";
import { planCopies } from "./copy-plan.ts";
import { diffScan } from "./diff.ts";
import { eachAtOnce } from "./each-at-once.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import {
  formatFor,
  type Manifest,
  type ManifestEntry,
  manifestTotals,
  objectKey,
} from "./manifest.ts";
import { packOf } from "./pack.ts";
import { type PreSyncHook, runPreSyncHook } from "./pre-sync-hook.ts";
import { Repository, type RetentionPolicy } from "./repository.ts";
import { inScope, type ScannedFile, scanDataDir } from "./scan.ts";
import type { SyncErrorKind, SyncMetrics } from "./sync-metrics.ts";
import type { SyncTarget } from "./targets/target.ts";
import type { Throttle } from "./throttle.ts";

export interface SyncerOptions {
  dataDir: string;
  target: SyncTarget;
  filter: (path: string) => boolean;
  deletes: "keep" | "mirror";
  retention: RetentionPolicy;
  /** Files copied at once (default 4). */
  concurrency?: number;
  throttle?: Throttle;
  /** Small files to copy from which a pass uses the target's copy threads (default `copyThreadsFrom`). */
  copyThreadsFrom?: number;
  preSync?: PreSyncHook;
  logger: Logger;
  metrics?: SyncMetrics;
  now?: () => number;
}

/** What one sync pass did. */
export interface SyncResult {
  /** The version now newest at the target (undefined: the target holds none, the data dir is empty). */
  version: number | undefined;
  /** Whether this pass wrote a new version. */
  published: boolean;
  filesCopied: number;
  bytesCopied: number;
  /** Files not recorded this time (changed while copied, unreadable); the next pass retries them. */
  retry: string[];
  /** Versions and objects removed by retention. */
  pruned: { versions: number; objects: number };
}

/**
 * Small files to copy from which a pass uses the target's copy threads (`putFiles`). Starting a
 * thread costs ~20 ms of CPU and ~18 MB of RSS; the round trips it saves, ~0.1 ms per file.
 */
export const copyThreadsFrom = 256;

/** Batches given to the copy threads at once: two per thread, one copying and one waiting its turn. */
const batchesInFlight = 4;

type Outcome =
  | { kind: "stored"; entry: ManifestEntry; copied: number }
  | { kind: "gone" }
  | { kind: "retry"; reason: SyncErrorKind; error: unknown };

/**
 * One sync pass: scan the data directory, compare with the newest version by size and mtime,
 * hash what changed, copy content the target does not hold yet (content-addressed, so renames
 * and duplicates copy nothing), check that each file did not change while it was copied, then
 * publish a new version. Nothing is recorded that is not stored: the manifest goes last, after
 * every object it names; a pass that fails leaves the last version as it was.
 *
 * @example
 * const syncer = new Syncer({ dataDir: "/data", target, filter, deletes: "keep", retention, logger });
 * const result = await syncer.run();
 */
export class Syncer {
  readonly repository: Repository;
  readonly #options: SyncerOptions;
  readonly #now: () => number;
  #current: Manifest | undefined;
  /** What the target holds; undefined until read (and after a failed pass). */
  #index: ContentIndex | undefined;
  /** Contents in packs left mostly to old contents: the next pass copies their files again. */
  #repack = new Set<string>();

  constructor(options: SyncerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.repository = new Repository(options.target);
  }

  /** The newest version this syncer knows of (after the first pass or `load()`). */
  get current(): Manifest | undefined {
    return this.#current;
  }

  /** Reads the newest version and the stored objects, and clears what an interrupted pass left. */
  async load(): Promise<void> {
    const { latest, stored, sizes } = await this.repository.recover();
    this.#current = latest;
    this.#index = new ContentIndex(stored, latest?.files ?? [], sizes);
    // Packs being left (a pass failed before it copied their files again) stay left.
    this.#index.forget(this.#repack);
    this.#report();
  }

  /**
   * One pass. `changed`: the paths a watch reported changed since the last pass (files, or
   * directories for their whole subtree); only they are looked at, every other entry is
   * carried over. Without it, the whole data directory is scanned.
   */
  async run(signal?: AbortSignal, changed?: ReadonlySet<string>): Promise<SyncResult> {
    try {
      return await this.#run(signal, changed);
    } catch (error) {
      // What this pass stored may not have been made durable (a failed flush deletes what it
      // could not sync): the next pass starts again from what the target holds.
      this.#index = undefined;
      throw error;
    }
  }

  async #run(signal?: AbortSignal, changed?: ReadonlySet<string>): Promise<SyncResult> {
    const { dataDir, filter, preSync, logger } = this.#options;
    // Until a version is read, what changed since is unknown: the first pass scans everything.
    const paths = this.#index && this.#current ? changed : undefined;
    if (!this.#index) await this.load();
    if (preSync) await runPreSyncHook(preSync, dataDir, signal);
    const previous = this.#current?.files ?? [];
    // Files in a pack left mostly to old contents are copied again, into a new pack (and
    // scanned even when the watch did not report them).
    const repack = this.#repack;
    const copyAgain = (entry: ManifestEntry) => repack.has(entry.sha256);
    const again = previous.filter((e) => copyAgain(e) && !e.deletedAt).map((e) => e.path);
    const scope = paths && again.length > 0 ? new Set([...paths, ...again]) : paths;
    // Once a version holds files, a missing data directory is an unmounted volume, not an empty app.
    const scanned = await scanDataDir(dataDir, filter, {
      mustExist: previous.length > 0,
      paths: scope,
    });
    const plan = diffScan(scanned, previous, scope && inScope(scope), copyAgain);
    const outcomes = await this.#copyAll(plan.changed, signal);

    const previousByPath = new Map(previous.map((entry) => [entry.path, entry]));
    const entries: ManifestEntry[] = [...plan.unchanged];
    const retry: string[] = [];
    const gone: ManifestEntry[] = [...plan.deleted];
    let filesCopied = 0;
    let bytesCopied = 0;
    for (const [index, outcome] of outcomes.entries()) {
      const file = plan.changed[index]!;
      const before = previousByPath.get(file.path);
      if (outcome.kind === "stored") {
        entries.push(outcome.entry);
        if (outcome.copied > 0) {
          filesCopied += 1;
          bytesCopied += outcome.copied;
        }
      } else if (outcome.kind === "gone") {
        if (before) gone.push(before);
      } else {
        retry.push(file.path);
        if (before) entries.push(before);
        logger.warn(
          { path: file.path, error: describeError(outcome.error), kind: outcome.reason },
          outcome.reason === "changed"
            ? "file changed while it was copied; it will be copied again"
            : "file not synced this time; it will be tried again",
        );
      }
    }
    if (this.#options.deletes === "keep") {
      const deletedAt = new Date(this.#now()).toISOString();
      for (const entry of gone) entries.push(entry.deletedAt ? entry : { ...entry, deletedAt });
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

    let published = false;
    if (this.#current && sameContent(entries, previous)) {
      // Only mtimes moved (a touch, a snapshot rewritten with the same bytes): no new version,
      // but remember them so the next pass does not hash these files again.
      this.#current = { ...this.#current, files: entries };
    } else if (this.#current || entries.length > 0) {
      const manifest: Manifest = {
        format: formatFor(entries),
        version: (this.#current?.version ?? 0) + 1,
        createdAt: new Date(this.#now()).toISOString(),
        files: entries,
      };
      await this.#options.target.flush();
      await this.repository.publish(manifest);
      this.#current = manifest;
      published = true;
    }
    let pruned = { versions: 0, objects: 0 };
    if (published)
      pruned = await this.repository.prune(
        this.#options.retention,
        this.#now(),
        this.#index!.objects,
      );
    // What the newest version packed: a pack only this pass wrote, that no version names (its
    // files changed since they were read), is pruned with the other objects no version names.
    this.#index!.newest(this.#current?.files ?? []);
    // Left packs' files are copied again by now (a failed pass keeps them for the next one).
    this.#repack = new Set();
    if (published) await this.#findSparsePacks(previous, entries);
    this.#report();
    return { version: this.#current?.version, published, filesCopied, bytesCopied, retry, pruned };
  }

  /**
   * Packs that lost files in this version and now hold less than `repackBelow` of live
   * content: their remaining files are copied again by the next pass (into new packs), so the
   * pack is left to old versions and goes with the last of them, instead of being kept whole
   * by a few files that never change. Files kept after their deletion still name it.
   */
  async #findSparsePacks(
    previous: readonly ManifestEntry[],
    entries: readonly ManifestEntry[],
  ): Promise<void> {
    const before = packContents(previous);
    for (const [pack, contents] of packContents(entries)) {
      if (contents.size >= (before.get(pack)?.size ?? 0)) continue;
      const bytes = await this.#packBytes(pack);
      let live = 0;
      for (const size of contents.values()) live += size;
      if (bytes === undefined || live >= bytes * repackBelow) continue;
      for (const entry of entries) if (entry.pack === pack) this.#repack.add(entry.sha256);
    }
    this.#index!.forget(this.#repack);
  }

  async #packBytes(pack: string): Promise<number | undefined> {
    const known = this.#index!.packBytes(pack);
    if (known !== undefined) return known;
    const key = objectKey(pack);
    const size = (await this.#options.target.list(key)).find((o) => o.key === key)?.size;
    if (size !== undefined) this.#index!.knowPackBytes(pack, size);
    return size;
  }

  #report(): void {
    const metrics = this.#options.metrics;
    if (!metrics) return;
    const totals = manifestTotals(this.#current);
    metrics.manifestFiles.set(totals.files);
    metrics.manifestBytes.set(totals.bytes);
    metrics.manifestVersion.set(this.#current?.version ?? 0);
  }

  /**
   * Copies with `concurrency` lanes, biggest files first; the first target failure stops new
   * copies and is thrown. Among many, small files are packed in batches (copy-plan.ts),
   * `batchesInFlight` at once: by the target itself where it can (a directory's copy threads,
   * which take its big files too, each alone), else here (S3, or no threads under a small
   * memory budget).
   */
  async #copyAll(files: readonly ScannedFile[], signal?: AbortSignal): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(files.length);
    // Packs pay off for many small files; for a few, starting copy threads costs more than
    // the thread-pool round trips they save. Paced by the throttle, every copy is a stream.
    const small = (file: ScannedFile) => file.size < smallFileBytes;
    const packing =
      !this.#options.throttle &&
      files.filter(small).length >= (this.#options.copyThreadsFrom ?? copyThreadsFrom);
    const viaThreads = packing && !!this.#options.target.putFiles;
    const { singles, batches } = planCopies(files, { packing, bigFilesInBatches: viaThreads });
    // A failure of either kind of copy stops both.
    const failed = new AbortController();
    const each = <T>(items: readonly T[], lanes: number, task: (item: T) => Promise<void>) =>
      eachAtOnce(
        items,
        lanes,
        async (item) => {
          signal?.throwIfAborted();
          await task(item).catch((error: unknown) => {
            failed.abort();
            throw error;
          });
        },
        { stop: failed.signal },
      );
    // The copy threads' batches have lanes of their own: big files streamed here, `concurrency`
    // at once, must not leave the threads waiting for a lane.
    const settled = await Promise.allSettled([
      each(singles, this.#options.concurrency ?? 4, async (index) => {
        outcomes[index] = await this.#copyOne(files[index]!);
      }),
      each(batches, batchesInFlight, (indexes) =>
        viaThreads
          ? this.#copyBatch(files, indexes, outcomes)
          : this.#packBatch(files, indexes, outcomes),
      ),
    ]);
    for (const result of settled) if (result.status === "rejected") throw result.reason;
    return outcomes;
  }

  /** Small files copied by the target itself (`putFiles`), their outcomes put in `outcomes`. */
  async #copyBatch(
    files: readonly ScannedFile[],
    indexes: readonly number[],
    outcomes: Outcome[],
  ): Promise<void> {
    const { dataDir, target, metrics } = this.#options;
    const results = await target.putFiles!(
      indexes.map((index) => ({
        path: join(dataDir, files[index]!.path),
        size: files[index]!.size,
      })),
      (sha256) => this.#index!.held(sha256),
    );
    for (const [k, result] of results.entries()) {
      const file = files[indexes[k]!]!;
      try {
        if (result instanceof Error) throw result;
        if (result.pack)
          this.#index!.stored(
            result.pack.sha256,
            [{ sha256: result.sha256, offset: result.pack.offset }],
            result.pack.bytes,
          );
        if (result.copied > 0) {
          metrics?.filesCopied.inc();
          metrics?.bytesCopied.inc(result.copied);
        }
        // What the scan saw is the "before": a change since then shows after the copy.
        const before = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino };
        outcomes[indexes[k]!] = this.#checked(file, before, result, result.after, result.copied);
      } catch (error) {
        outcomes[indexes[k]!] = this.#notCopied(error);
      }
    }
  }

  /**
   * Small files packed here, for a target without copy threads: each read whole (many at once),
   * hashed and stat'ed again; the contents the target does not hold, each once, uploaded one
   * after the other as one object named by its SHA-256 (a pack of one: that content's own
   * object). 2 000 files to S3: ~63 requests instead of 2 000.
   */
  async #packBatch(
    files: readonly ScannedFile[],
    indexes: readonly number[],
    outcomes: Outcome[],
  ): Promise<void> {
    const { dataDir, target, metrics } = this.#options;
    const read = await Promise.all(
      indexes.map(async (index) => {
        const path = join(dataDir, files[index]!.path);
        try {
          const data = await readSmallFile(path, files[index]!.size);
          if (data.length !== files[index]!.size)
            throw new FileChangedError(
              path,
              `size ${files[index]!.size} → ${data.length} while read`,
            );
          return { data, sha256: sha256Of(data), after: await statIdentity(path) };
        } catch (error) {
          return { error };
        }
      }),
    );
    /** The contents to pack: by SHA-256, the first file's content. */
    const chosen = new Map<string, Buffer>();
    for (const result of read)
      if (!("error" in result) && !this.#index!.held(result.sha256) && !chosen.has(result.sha256))
        chosen.set(result.sha256, result.data);
    if (chosen.size > 0) {
      const contents = [...chosen.values()];
      const layout = packOf(contents);
      const pack = Buffer.concat(contents);
      await target.putStream(objectKey(layout.sha256), () => bufferStream(pack), pack.length, pack);
      const shas = [...chosen.keys()];
      const at = shas.map((sha256, k) => ({ sha256, offset: layout.offsets[k]! }));
      this.#index!.stored(layout.sha256, at, layout.bytes);
      for (const content of contents) {
        metrics?.filesCopied.inc();
        metrics?.bytesCopied.inc(content.length);
      }
    }
    for (const [k, result] of read.entries()) {
      const file = files[indexes[k]!]!;
      if ("error" in result) {
        outcomes[indexes[k]!] = this.#notCopied(result.error);
        continue;
      }
      // Counted once: a second file of the same content copied nothing.
      const copied = chosen.get(result.sha256) === result.data ? result.data.length : 0;
      const before = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino };
      try {
        outcomes[indexes[k]!] = this.#checked(
          file,
          before,
          { sha256: result.sha256, size: result.data.length },
          result.after,
          copied,
        );
      } catch (error) {
        outcomes[indexes[k]!] = this.#notCopied(error);
      }
    }
  }

  /** The copy counts when the file is still there, with the size, mtime and inode the scan saw. */
  #checked(
    file: ScannedFile,
    before: FileIdentity,
    content: { sha256: string; size: number },
    after: FileIdentity | undefined,
    copied: number,
  ): Outcome {
    if (!after) return { kind: "gone" };
    if (!sameIdentity(before, after))
      throw new FileChangedError(
        join(this.#options.dataDir, file.path),
        "size, mtime or inode differ after the copy",
      );
    const entry: ManifestEntry = {
      path: file.path,
      size: content.size,
      mtimeMs: before.mtimeMs,
      sha256: content.sha256,
      mode: file.mode,
      ...this.#index!.location(content.sha256),
    };
    return { kind: "stored", entry, copied };
  }

  async #copyOne(file: ScannedFile): Promise<Outcome> {
    const { dataDir, target, throttle, metrics } = this.#options;
    const path = join(dataDir, file.path);
    try {
      // What the scan saw is the "before": a change since then shows after the copy.
      const before = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino };
      // A small file is read once and copied from memory; a big one is hashed, then streamed
      // through a check of that hash, so the target never completes an object that is not it.
      let content: { sha256: string; size: number };
      let open: () => Readable;
      let inMemory: Buffer | undefined;
      if (before.size < smallFileBytes) {
        const data = await readSmallFile(path, before.size);
        content = { sha256: sha256Of(data), size: data.length };
        open = () => bufferStream(data, throttle);
        // Unpaced, the target may write the bytes as they are, without a stream.
        if (!throttle) inMemory = data;
      } else {
        content = await hashFile(path);
        open = () => sourceStream(path, content, throttle);
      }
      let copied = 0;
      if (content.size !== before.size)
        throw new FileChangedError(path, `size ${before.size} → ${content.size} while read`);
      if (!this.#index!.held(content.sha256)) {
        await target.putStream(objectKey(content.sha256), open, content.size, inMemory);
        this.#index!.stored(content.sha256);
        copied = content.size;
        metrics?.filesCopied.inc();
        metrics?.bytesCopied.inc(content.size);
      }
      return this.#checked(file, before, content, await statIdentity(path), copied);
    } catch (error) {
      return this.#notCopied(error);
    }
  }

  /** A copy that failed: gone, or to retry when it is the file's problem; a target failure is thrown. */
  #notCopied(error: unknown): Outcome {
    const { metrics } = this.#options;
    if (error instanceof FileGoneError) return { kind: "gone" };
    if (error instanceof FileChangedError) {
      metrics?.errors.inc({ kind: "changed" });
      return { kind: "retry", reason: "changed", error };
    }
    if (isSidecarError(error) && error.code === SyncErrorCodes.SOURCE) {
      metrics?.errors.inc({ kind: "source" });
      return { kind: "retry", reason: "source", error };
    }
    if (error instanceof SidecarError) throw error;
    // An fs error reading the source (EACCES, EIO) is this file's problem, not the pass's.
    if ((error as NodeJS.ErrnoException).syscall) {
      metrics?.errors.inc({ kind: "source" });
      return { kind: "retry", reason: "source", error };
    }
    throw error;
  }
}

/** A pack is left when less than this share of it is content the newest version names. */
const repackBelow = 0.5;

/** By pack, the contents entries name in it: offset → size. */
function packContents(entries: readonly ManifestEntry[]): Map<string, Map<number, number>> {
  const packs = new Map<string, Map<number, number>>();
  for (const { pack, offset, size } of entries) {
    if (pack === undefined) continue;
    const contents = packs.get(pack) ?? new Map<number, number>();
    packs.set(pack, contents);
    contents.set(offset ?? 0, size);
  }
  return packs;
}

/** Whether two lists of entries (the first sorted by path) hold the same files with the same content. */
function sameContent(a: readonly ManifestEntry[], b: readonly ManifestEntry[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return a.every((entry, index) => {
    const other = sorted[index]!;
    return (
      entry.path === other.path &&
      entry.sha256 === other.sha256 &&
      entry.size === other.size &&
      entry.mode === other.mode &&
      entry.pack === other.pack &&
      entry.offset === other.offset &&
      entry.deletedAt === other.deletedAt
    );
  });
}
