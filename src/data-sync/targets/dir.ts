import { dirname, join, sep } from "node:path";
import { Readable } from "node:stream";
import { fs } from "../../runtime/builtins.ts";
import { describeError, SidecarError } from "../../runtime/errors.ts";
import { fsyncDir, writeFileAtomic } from "../../runtime/files/atomic-file.ts";
import { FileChangedError, FileGoneError, hashFile, smallFileBytes } from "../copy.ts";
import { eachAtOnce } from "../each-at-once.ts";
import { SyncErrorCodes } from "../error-codes.ts";
import { fdClose, fdDatasync, fdOpen, fdWriteAll, pathRename } from "../fd.ts";
import type { ByteRange } from "../manifest.ts";
import { CopyPool } from "./copy-pool.ts";
import { DatasyncQueue } from "./datasync-queue.ts";
import { syncFilesystemIfAny } from "./syncfs.ts";
import type { LocalFile, StoredFile, SyncTarget, TargetObject } from "./target.ts";

const tempSuffix = ".partial";

/** fsyncs (and deletes) in flight at once: enough to keep a pool of 16 threads busy, few open fds. */
const flushConcurrency = 64;

/** Temp names unique per process and write without a random-number call each (pid, then a counter). */
let tempCounter = 0;
const tempTag = `${process.pid.toString(36)}-${Date.now().toString(36)}`;

export interface DirTargetOptions {
  /** fsync objects and their directories before they count as stored (default true). */
  fsync?: boolean;
  /**
   * Threads that copy small files (`putFiles`), started on demand (default 2: one per core of
   * the bench machine; 4 were no faster on its 2 cores, and each costs ~18 MB of RSS). 0: no
   * `putFiles`, every file is copied on the main thread (a small memory budget).
   */
  copyThreads?: number;
  /** The fdatasync of a written object (default fd.ts's): a test injects a failure here. */
  datasync?: (fd: number) => Promise<void>;
  /** link(2) (default fs's): a test injects a filesystem without hard links here. */
  link?: (existing: string, path: string) => Promise<void>;
  /**
   * How `flush()` makes the objects durable: one syncfs(2) of the target's filesystem (default:
   * `sync -f`, when a `sync` command is on PATH), or, when false, an fdatasync of each object
   * and of each directory renamed into.
   */
  syncFilesystem?: ((path: string) => Promise<void>) | false;
}

/**
 * A directory (another volume) as a target. Objects are written to a temp file in the same
 * directory and renamed into place, so a reader never sees a partial object. Durability is
 * batched: `flush()`, before a manifest refers to them, fdatasyncs every object written since
 * the last flush (many at once: one at a time per copy is 10 000 waits for 10 000 files) and
 * then the directories renamed into. Until then an object may be torn by a crash of the
 * machine, so after a restart `checkUnnamed()` hashes the objects no version names before they
 * are trusted.
 *
 * @example
 * const target = new DirTarget("/backup");
 * await target.put("manifests/000000000001.json", text);
 */
export class DirTarget implements SyncTarget {
  readonly description: string;
  readonly #root: string;
  readonly #fsync: boolean;
  readonly #madeDirs = new Set<string>();
  readonly #dirtyDirs = new Set<string>();
  /** Objects renamed into place since the last flush, their data not yet fsynced. */
  readonly #unsynced = new Set<string>();
  /** Objects written and renamed into place, still open, their data not yet fsynced. */
  readonly #datasyncs: DatasyncQueue;
  /** Unset after a failed syncfs: from then on, an fdatasync per object. */
  #syncfs: ((path: string) => Promise<void>) | undefined;
  readonly #copyThreads: number;
  readonly #link: (existing: string, path: string) => Promise<void>;
  #pool: CopyPool | undefined;
  /** Small files copied on the copy threads; absent without threads. */
  readonly putFiles?: (
    files: readonly LocalFile[],
    held: (sha256: string) => boolean,
  ) => Promise<(StoredFile | Error)[]>;

  constructor(
    root: string,
    {
      fsync = true,
      copyThreads = 2,
      datasync = fdDatasync,
      link = fs.promises.link,
      syncFilesystem: syncfs = syncFilesystemIfAny(),
    }: DirTargetOptions = {},
  ) {
    this.#root = root;
    this.#fsync = fsync;
    this.#syncfs = fsync && syncfs ? syncfs : undefined;
    this.#datasyncs = new DatasyncQueue({
      concurrency: flushConcurrency,
      datasync,
      onFailed: (path) => fs.promises.rm(path, { force: true }),
    });
    this.#copyThreads = copyThreads;
    this.#link = link;
    if (copyThreads > 0) this.putFiles = (files, held) => this.#putFiles(files, held);
    this.description = root;
  }

  #path(key: string): string {
    return join(this.#root, ...key.split("/"));
  }

  #fail(action: string, key: string, error: unknown): SidecarError {
    return new SidecarError(
      SyncErrorCodes.TARGET,
      `Cannot ${action} "${this.#path(key)}": ${describeError(error)}`,
      { cause: error },
    );
  }

  async #mkdir(dir: string): Promise<void> {
    if (this.#madeDirs.has(dir)) return;
    await fs.promises.mkdir(dir, { recursive: true });
    this.#madeDirs.add(dir);
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    const path = this.#path(key);
    try {
      await this.#mkdir(dirname(path));
      await writeFileAtomic(path, data, { fsync: this.#fsync });
    } catch (error) {
      throw this.#fail("write", key, error);
    }
  }

  /**
   * A hard link to `from` under a temp name, renamed to `to`: the bytes are not written again
   * (they are durable already: `from` was put). Where the filesystem has no hard links (some
   * SMB or FUSE volumes), a copy of the file, fsynced, takes the link's place.
   */
  async copy(from: string, to: string): Promise<void> {
    const path = this.#path(to);
    const temp = this.#tempFor(path);
    try {
      await this.#mkdir(dirname(path));
      try {
        await this.#link(this.#path(from), temp);
      } catch (error) {
        if (!noHardLinks.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
        await fs.promises.copyFile(this.#path(from), temp);
        if (this.#fsync) await datasyncPath(temp);
      }
      await pathRename(temp, path);
      if (this.#fsync) await fsyncDir(dirname(path));
    } catch (error) {
      await fs.promises.rm(temp, { force: true });
      throw this.#fail("write", to, error);
    }
  }

  /** A temp name beside `path`, unique in this process, that recover() removes after a crash. */
  #tempFor(path: string): string {
    return `${path}.${tempTag}-${(tempCounter++).toString(36)}${tempSuffix}`;
  }

  async putStream(
    key: string,
    open: () => Readable,
    _size: number,
    data?: Uint8Array,
  ): Promise<void> {
    const path = this.#path(key);
    const temp = this.#tempFor(path);
    let body: Readable | undefined;
    try {
      await this.#mkdir(dirname(path));
      const fd = await fdOpen(temp, "w", 0o644);
      let keepOpen = false;
      try {
        if (data) await fdWriteAll(fd, data);
        else {
          body = open();
          for await (const chunk of body) await fdWriteAll(fd, chunk as Buffer);
        }
        await pathRename(temp, path);
        // The data and the directory entry are made durable by flush(), before a manifest.
        keepOpen = this.#fsync && !this.#syncfs;
      } finally {
        if (!keepOpen) await fdClose(fd);
      }
      this.#written(path);
      if (keepOpen) await this.#datasyncs.add(fd, path);
    } catch (error) {
      body?.destroy();
      await fs.promises.rm(temp, { force: true });
      if (error instanceof SidecarError) throw error;
      if ((error as NodeJS.ErrnoException).syscall) throw this.#fail("write", key, error);
      throw error;
    }
  }

  /**
   * `putFiles`: small files read by a thread of the pool with synchronous calls, and the
   * contents the target does not hold written as one pack (see copy-worker.ts): two messages
   * per batch instead of a thread-pool round trip per call, and one file created instead of
   * one per small file. The pack is made durable by the next flush, like a putStream's object.
   */
  async #putFiles(
    files: readonly LocalFile[],
    held: (sha256: string) => boolean,
  ): Promise<(StoredFile | Error)[]> {
    if (files.length > 1 && files.some(({ size }) => size >= smallFileBytes))
      throw new RangeError("putFiles: a file of 1 MiB or more must be alone in its call");
    this.#pool ??= new CopyPool({ threads: this.#copyThreads });
    /** Chosen for the pack: by content, the index of its first file. */
    const chosen = new Map<string, number>();
    const { replies, pack } = await this.#pool.copy(
      {
        files: files.map(({ path, size }) => ({
          source: path,
          size,
          stream: size >= smallFileBytes,
        })),
        root: this.#root,
        keepOpen: this.#fsync && !this.#syncfs,
      },
      (read) => {
        for (const [index, reply] of read.entries())
          if (reply.kind === "read" && !held(reply.sha256) && !chosen.has(reply.sha256))
            chosen.set(reply.sha256, index);
        return [...chosen.values()];
      },
    );
    if (pack?.kind === "target")
      throw new SidecarError(
        SyncErrorCodes.TARGET,
        `Cannot write a pack of ${chosen.size} files under "${this.#root}": ${pack.message}`,
        { cause: Object.assign(new Error(pack.message), { code: pack.code }) },
      );
    // A big file (alone in its batch) that changed between its two reads: nothing was written.
    const changedSince = pack?.kind === "changed" ? pack.detail : undefined;
    if (pack?.kind === "packed" && pack.written) {
      this.#written(pack.path);
      if (pack.fd !== undefined) await this.#datasyncs.add(pack.fd, pack.path);
    }
    /** By content, where it is in the pack. */
    const offsets = new Map(
      [...chosen.keys()].map((sha, k) => [
        sha,
        pack?.kind === "packed" ? pack.offsets[k] : undefined,
      ]),
    );
    return replies.map((reply, index): StoredFile | Error => {
      const path = files[index]!.path;
      switch (reply.kind) {
        case "read": {
          const { sha256, size, after } = reply;
          if (changedSince !== undefined && chosen.get(sha256) === index)
            return new FileChangedError(path, changedSince);
          const offset = offsets.get(sha256);
          if (offset === undefined || pack?.kind !== "packed")
            return { sha256, size, after, copied: 0 };
          // Counted once: a second file of the same content in the batch copied nothing.
          const copied = pack.written && chosen.get(sha256) === index ? size : 0;
          const { bytes } = pack;
          return { sha256, size, after, copied, pack: { sha256: pack.sha256, offset, bytes } };
        }
        case "gone":
          return new FileGoneError(path);
        case "changed":
          return new FileChangedError(path, reply.detail);
        default:
          return new SidecarError(
            SyncErrorCodes.SOURCE,
            `Cannot read "${path}": ${reply.message}`,
            {
              cause: Object.assign(new Error(reply.message), {
                code: reply.code,
                syscall: reply.syscall,
              }),
            },
          );
      }
    });
  }

  /** An object renamed into place, to be made durable by the next flush. */
  #written(path: string): void {
    this.#dirtyDirs.add(dirname(path));
    if (this.#syncfs) this.#unsynced.add(path);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    // An empty file's content in a pack: nothing to read.
    if (range?.length === 0) return Readable.from([]);
    const path = this.#path(key);
    try {
      const handle = await fs.promises.open(path, "r");
      return handle.createReadStream(
        range && { start: range.offset, end: range.offset + range.length - 1 },
      );
    } catch (error) {
      throw this.#fail("read", key, error);
    }
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      return await fs.promises.readFile(this.#path(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw this.#fail("read", key, error);
    }
  }

  async list(prefix: string, { sizes = true }: { sizes?: boolean } = {}): Promise<TargetObject[]> {
    // Walk only the directory the prefix names (objects/, manifests/), not the whole target.
    const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    const base = join(this.#root, ...dir.split("/"));
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.promises.readdir(base, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw this.#fail("list", prefix, error);
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith(".") || entry.name.endsWith(tempSuffix))
        continue;
      // parentPath is base or below it (readdir builds it by joining): no path.relative per entry.
      const under = entry.parentPath.slice(base.length + 1);
      const rel = under
        ? `${sep === "/" ? under : under.split(sep).join("/")}/${entry.name}`
        : entry.name;
      const key = dir ? `${dir}/${rel}` : rel;
      if (key.startsWith(prefix)) keys.push(key);
    }
    keys.sort();
    if (!sizes) return keys.map((key) => ({ key }));
    const objects: TargetObject[] = [];
    for (let i = 0; i < keys.length; i += 64) {
      const batch = keys.slice(i, i + 64);
      const stats = await Promise.all(
        batch.map((key) => fs.promises.stat(this.#path(key)).catch(() => undefined)),
      );
      for (const [index, stat] of stats.entries())
        if (stat) objects.push({ key: batch[index]!, size: stat.size });
    }
    return objects;
  }

  /** Many at once (a pass's pruning deletes the objects of every file that changed). */
  async delete(keys: readonly string[]): Promise<void> {
    await eachAtOnce(keys, flushConcurrency, async (key) => {
      try {
        await fs.promises.unlink(this.#path(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT")
          throw this.#fail("delete", key, error);
      }
    });
  }

  async flush(): Promise<void> {
    if (!this.#fsync) {
      this.#dirtyDirs.clear();
      return;
    }
    if (this.#syncfs) return this.#flushFilesystem(this.#syncfs);
    // Files first, then the directories that name them, then objects/ (a new subdirectory). A
    // directory stays to sync when its fsync fails; a file that fails is deleted.
    try {
      await this.#datasyncs.drain();
      await eachAtOnce([...this.#unsynced], flushConcurrency, async (path) => {
        this.#unsynced.delete(path);
        try {
          await datasyncPath(path);
        } catch (error) {
          await fs.promises.rm(path, { force: true }).catch(() => undefined);
          throw error;
        }
      });
      const dirs = [...this.#dirtyDirs];
      await eachAtOnce(dirs, flushConcurrency, async (dir) => {
        await fsyncDir(dir);
        this.#dirtyDirs.delete(dir);
      });
      if (dirs.length > 0) await fsyncDir(join(this.#root, "objects"));
    } catch (error) {
      throw this.#fail("fsync", "objects", error);
    }
  }

  /**
   * One syncfs(2) for every object written since the last flush, data and directory entries
   * (10 000 small files: ~0.1 s, where 10 000 fdatasyncs took ~0.7 s). When it fails, which
   * object's data was lost is unknown: every one written since the last flush is deleted, and
   * the pass fails; the next one copies them again, fdatasyncing each: a `sync` without `-f`
   * (an old busybox) or a filesystem that refuses syncfs must not fail every pass.
   */
  async #flushFilesystem(syncfs: (path: string) => Promise<void>): Promise<void> {
    if (this.#unsynced.size === 0 && this.#dirtyDirs.size === 0) return;
    const written = [...this.#unsynced];
    try {
      await syncfs(this.#root);
    } catch (error) {
      this.#syncfs = undefined;
      await eachAtOnce(written, flushConcurrency, (path) =>
        fs.promises.rm(path, { force: true }).catch(() => undefined),
      );
      for (const path of written) this.#unsynced.delete(path);
      throw this.#fail("fsync", "objects", error);
    }
    for (const path of written) this.#unsynced.delete(path);
    this.#dirtyDirs.clear();
  }

  /**
   * One walk of the target: removes temp files an interrupted write left and returns the
   * objects under `objects/` (keys only: a size would cost a stat each).
   */
  async recover(): Promise<TargetObject[]> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.promises.readdir(this.#root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw this.#fail("list", "", error);
    }
    const objectsDir = join(this.#root, "objects");
    const keys: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      if (entry.name.endsWith(tempSuffix) || /^\..*\.tmp$/.test(entry.name))
        await fs.promises.rm(join(entry.parentPath, entry.name), { force: true });
      else if (
        !entry.name.startsWith(".") &&
        (entry.parentPath === objectsDir || entry.parentPath.startsWith(objectsDir + sep))
      ) {
        const under = entry.parentPath.slice(objectsDir.length + 1);
        const rel = under ? `${sep === "/" ? under : under.split(sep).join("/")}/` : "";
        keys.push(`objects/${rel}${entry.name}`);
      }
    }
    return keys.sort().map((key) => ({ key }));
  }

  /**
   * Objects no version names may be torn: written by a pass that a crash of the machine cut
   * before its flush. Each is hashed: one that matches its name (e.g. after a kill -9, where
   * the page cache kept it whole) is kept, and made durable by the next flush like a new
   * write; any other is deleted. Returns the keys kept.
   */
  async checkUnnamed(keys: readonly string[]): Promise<string[]> {
    const kept: string[] = [];
    await eachAtOnce(keys, 4, async (key) => {
      const path = this.#path(key);
      let sha256: string | undefined;
      try {
        sha256 = (await hashFile(path)).sha256;
      } catch (error) {
        if (error instanceof FileGoneError) return;
        throw this.#fail("read", key, error);
      }
      if (sha256 === key.slice(key.lastIndexOf("/") + 1)) {
        kept.push(key);
        if (this.#fsync) this.#unsynced.add(path);
        this.#dirtyDirs.add(dirname(path));
      } else {
        try {
          await fs.promises.rm(path, { force: true });
        } catch (error) {
          throw this.#fail("delete", key, error);
        }
      }
    });
    return kept.sort();
  }

  close(): void {
    this.#datasyncs.close();
    void this.#pool?.close();
    this.#pool = undefined;
  }
}

/** link(2) errors of a filesystem without hard links: a copy is made instead. */
const noHardLinks: ReadonlySet<string> = new Set([
  "EPERM",
  "ENOTSUP",
  "EOPNOTSUPP",
  "EXDEV",
  "ENOSYS",
]);

/** fdatasync of a file by its path; one gone since (pruned) needs none. */
async function datasyncPath(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await fdOpen(path, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    await fdDatasync(fd);
  } finally {
    await fdClose(fd);
  }
}
