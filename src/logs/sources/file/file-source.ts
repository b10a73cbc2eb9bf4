import { type FileHandle, open, stat } from "node:fs/promises";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import { LogsErrorCodes } from "../../error-codes.ts";
import type { SourceLine } from "../../log-event.ts";
import type { LongLineMode } from "../line-splitter.ts";
import type { EmitLines, LogSource } from "../log-source.ts";
import { type Checkpoint, Checkpointer } from "./checkpointer.ts";
import { FileReader } from "./file-reader.ts";
import { Fingerprinter } from "./fingerprinter.ts";
import { PathsProvider } from "./paths-provider.ts";
import { readTail, readTailSync, tailMatches } from "./tail-digest.ts";

export interface FileSourceOptions {
  name: string;
  include: readonly string[];
  exclude?: readonly string[];
  /** Where files found at the first scan without a checkpoint start. Files that appear later are read from the head. */
  readFrom?: "head" | "tail";
  fingerprintBytes?: number;
  maxLineBytes?: number;
  longLines?: LongLineMode;
  partialLineTimeoutMs?: number;
  /** A renamed or deleted file is released this long after it stopped growing (read to its end first). */
  rotateWaitMs?: number;
  /** How often idle files are checked when no inotify event comes. */
  pollIntervalMs?: number;
  /** How often the globs are rescanned. */
  globIntervalMs?: number;
  /** Bytes read per read() call. */
  readChunkBytes?: number;
  /**
   * At most this many files held open: above it, the least recently grown files that are read
   * to their end and acknowledged are closed ("parked") and reopened from their checkpoint when
   * they grow. Default: no limit.
   */
  maxOpenFiles?: number;
  /**
   * At most one checkpoint write per this many ms: every file acknowledged meanwhile is recorded
   * in that one write. A `kill -9` re-reads at most what was acknowledged in the last interval
   * (plus a write in flight). 0: a write after each turn of the event loop that acknowledged
   * something. Rotation, deletion, closing under maxOpenFiles and shutdown write at once.
   * Default 500.
   */
  checkpointIntervalMs?: number;
  /** Where checkpoints.json lives. */
  stateDir: string;
  logger: Logger;
  now?: () => number;
  onRead?: (lines: number, bytes: number) => void;
  onLongLine?: () => void;
  onCheckpointError?: () => void;
  onCheckpointWrite?: () => void;
  /** The `source` of a file's lines; default its path. */
  label?: (path: string) => string;
}

/** Bytes one file may read before the next file gets its turn. */
const turnBytes = 8 * 1024 * 1024;

/**
 * While inotify watches every directory, the globs are rescanned this many times less often
 * than globIntervalMs: new files and directories are reported by inotify, and the rescan is only
 * the safety net (Fluent Bit's tail rescans every 60 s).
 */
const watchedScanFactor = 12;

/**
 * Rescans for directories inotify reported (Pods coming and going) are at most this often
 * (or globIntervalMs, when shorter): a rescan lists every directory, and a node starting 100
 * Pods must not pay 100 of them. New files are opened from their inotify event, no rescan.
 */
const eventScanSpacingMs = 1000;

/** How often the checkpoint file is fsynced (the main file) when checkpoints moved. */
const syncIntervalMs = 1000;

/**
 * Tails the files matched by globs, at least once: lines go to the pipeline with their stream
 * position, and a file's checkpoint moves only when the pipeline commits (every sink acked).
 * Rotation by rename: the old file stays open and is read to its end before it is released.
 * copytruncate: a file that shrinks below what was read is read again from its start (and a copy
 * whose content continues a known file continues from its checkpoint). Deleted files are released
 * once read. Identity is the fingerprint (see Fingerprinter), so renames and reused inodes are safe.
 */
export class FileSource implements LogSource {
  readonly name: string;
  readonly checkpointer: Checkpointer;
  readonly #options: Required<
    Omit<
      FileSourceOptions,
      | "exclude"
      | "onRead"
      | "onLongLine"
      | "onCheckpointError"
      | "onCheckpointWrite"
      | "label"
      | "maxOpenFiles"
    >
  > &
    FileSourceOptions;
  readonly #paths: PathsProvider;
  readonly #fingerprinter: Fingerprinter;
  readonly #readers = new Map<string, FileReader>(); // by device:inode
  readonly #streams = new Map<string, FileReader>(); // by stream id
  readonly #buffer: Buffer;
  #emit: EmitLines | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #firstScan = true;
  #scanDue = true;
  /** A directory came or went (inotify): a rescan, at most one per eventScanSpacingMs. */
  #dirScanDue = false;
  #lastScanAt = 0;
  #wake: (() => void) | undefined;
  /** The next checkpoint write, when one is due. */
  #checkpointTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #checkpointAt = 0;
  /** An fsynced write of the main file in flight. */
  #checkpointing: Promise<void> | undefined;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #lastSyncAt = Number.NEGATIVE_INFINITY;
  #closed = false;
  readonly #committedSince = new Set<FileReader>();
  /** The tracked files by path, so an inotify event costs a lookup, not a pass over every file. */
  #byPath = new Map<string, FileReader>();
  /** Files inotify reported changed (or that read something last round): next round's turns. */
  readonly #due = new Set<FileReader>();
  /** Files a timer waits on (a partial line; renamed, deleted or truncated): a turn every round. */
  readonly #waiting = new Set<FileReader>();
  /** When every file's size was last checked; the safety net for changes inotify did not report. */
  #lastSweepAt = 0;
  /** Some directory could not be watched: every file gets a turn every round. */
  #unwatched = true;
  readonly #early = new Map<string, { handle: FileHandle; path: string; at: number }>();
  /** The files the last scan found, by device:inode, with their size. */
  #present = new Map<string, number>();
  /** New files held back since, by device:inode (see #track). */
  readonly #deferred = new Map<string, number>();
  /** Files closed under maxOpenFiles, by device:inode, with their size when closed. */
  readonly #parked = new Map<string, { path: string; size: number; streamId: string }>();

  constructor(options: FileSourceOptions) {
    this.name = options.name;
    const now = options.now ?? Date.now;
    this.#options = {
      readFrom: "head",
      fingerprintBytes: 1024,
      maxLineBytes: 102_400,
      longLines: "split",
      partialLineTimeoutMs: 5000,
      rotateWaitMs: 5000,
      pollIntervalMs: 250,
      globIntervalMs: 5000,
      readChunkBytes: 256 * 1024,
      checkpointIntervalMs: 500,
      ...options,
      now,
    };
    this.#paths = new PathsProvider({
      include: options.include,
      exclude: options.exclude ?? [],
      onChange: (path, event) => {
        const reader = path === undefined ? undefined : this.#byPath.get(path);
        if (reader) this.#due.add(reader);
        // A file the globs match is opened by path (no rescan); a directory that came or went
        // (a new Pod) needs one; an excluded file (kubelet's .gz) neither.
        if (path === undefined) this.#dirScanDue = true;
        else if (this.#paths.matches(path)) {
          if (!reader || event === "rename") this.#openEarly(path);
        } else if (!reader && !this.#paths.excluded(path)) this.#dirScanDue = true;
        this.#wake?.();
      },
    });
    this.#fingerprinter = new Fingerprinter({ maxBytes: this.#options.fingerprintBytes });
    this.checkpointer = new Checkpointer(options.stateDir, {
      now,
      isLive: (streamId) => this.#streams.has(streamId),
      ...(options.onCheckpointWrite ? { onWrite: options.onCheckpointWrite } : {}),
    });
    this.#buffer = Buffer.allocUnsafe(this.#options.readChunkBytes);
  }

  async start(emit: EmitLines): Promise<void> {
    this.#emit = emit;
    const problem = await this.checkpointer.load();
    if (problem)
      this.#options.logger.error({ error: problem, code: problem.code }, problem.message);
    await this.#scan();
    this.#loop = this.#run();
  }

  /** The directories watched for new files and appends. */
  watchedDirectories(): string[] {
    return this.#paths.watchedDirectories();
  }

  commit(streamId: string, offset: number): void {
    const reader = this.#streams.get(streamId);
    if (!reader) return;
    reader.committed = offset;
    this.#committedSince.add(reader);
    this.#scheduleCheckpoint();
  }

  /**
   * Plans the next checkpoint write: checkpointIntervalMs after the last one while files were
   * acknowledged since, else (written without fsync since) an fsync a second after the last one.
   * One timer for the whole source, none while nothing moves.
   */
  #scheduleCheckpoint(): void {
    if (this.#closed) return;
    const interval = this.#options.checkpointIntervalMs;
    let at: number;
    if (this.#committedSince.size > 0) at = this.#lastWriteAt + interval;
    else if (this.checkpointer.unsynced && !this.#checkpointing)
      at = this.#lastSyncAt + syncIntervalMs;
    else return;
    // A write planned already for no later (the usual case) stands; an fsync planned a second
    // out gives way to the write that files acknowledged since are due.
    if (this.#checkpointTimer !== undefined) {
      if (this.#checkpointAt <= at) return;
      this.#cancelCheckpointTimer();
    }
    this.#checkpointAt = at;
    const delay = Math.max(0, at - this.#options.now());
    this.#checkpointTimer =
      delay === 0
        ? setImmediate(() => this.#writeCheckpoint())
        : setTimeout(() => this.#writeCheckpoint(), delay);
  }

  #cancelCheckpointTimer(): void {
    clearTimeout(this.#checkpointTimer as NodeJS.Timeout);
    clearImmediate(this.#checkpointTimer as NodeJS.Immediate);
    this.#checkpointTimer = undefined;
  }

  /**
   * One checkpoint write with every file acknowledged since the last: without fsync over
   * checkpoints.fast.json (survives a crash of the process), or, once a second, fsynced to
   * checkpoints.json (survives a crash of the machine).
   */
  #writeCheckpoint(): void {
    this.#checkpointTimer = undefined;
    const now = this.#options.now();
    this.#recordCommitted();
    this.#lastWriteAt = now;
    // A fast write does not wait for an fsynced one in flight (another file; the newer wins).
    if (now - this.#lastSyncAt < syncIntervalMs || this.#checkpointing) {
      try {
        this.checkpointer.writeNow();
      } catch (error) {
        this.#checkpointFailed(error);
      }
      this.#scheduleCheckpoint();
      return;
    }
    this.#lastSyncAt = now;
    this.#checkpointing = this.checkpointer
      .flush({ sync: true })
      .catch((error: unknown) => this.#checkpointFailed(error))
      .finally(() => {
        this.#checkpointing = undefined;
        this.#scheduleCheckpoint();
      });
  }

  #checkpointFailed(error: unknown): void {
    this.#options.onCheckpointError?.();
    this.#options.logger.error({ error }, "checkpoint write failed");
  }

  /** Records the files acknowledged since the last write (not every file). */
  #recordCommitted(): void {
    const readers = [...this.#committedSince];
    this.#committedSince.clear();
    for (const reader of readers) {
      if (this.#streams.get(reader.streamId) !== reader) continue; // released meanwhile
      const tail =
        reader.committed === reader.offset && reader.partialBytes === 0
          ? reader.tail.digest()
          : readTailSync(reader.handle, reader.committed);
      if (tail === undefined && reader.committed > 0) continue;
      this.#record(reader, tail ?? "");
    }
  }

  #record(reader: FileReader, tail: string): void {
    this.checkpointer.set({
      streamId: reader.streamId,
      fingerprint: reader.fingerprint,
      ino: reader.ino,
      path: reader.path,
      offset: reader.committed,
      tail,
    });
  }

  lagBytes(): number {
    let lag = 0;
    for (const reader of this.#readers.values()) lag += Math.max(0, reader.size - reader.committed);
    return lag;
  }

  /** The open files, for status and tests. */
  files(): { path: string; streamId: string; offset: number; committed: number; size: number }[] {
    return [...this.#readers.values()].map((r) => ({
      path: r.path,
      size: r.size,
      streamId: r.streamId,
      offset: r.offset,
      committed: r.committed,
    }));
  }

  async stop(): Promise<void> {
    if (this.#stopping) return this.#loop;
    this.#stopping = true;
    this.#paths.close();
    this.#wake?.();
    await this.#loop;
    // One last pass: everything written before the app stopped, and partial lines.
    await this.#scan();
    for (const reader of this.#readers.values()) {
      if (reader.truncated) continue;
      await this.#pump(reader, Number.POSITIVE_INFINITY);
      const out: SourceLine[] = [];
      if (reader.flushPartial(out)) await this.#emit!(out);
    }
  }

  /** Records each file's committed position and writes checkpoints.json (fsynced unless `sync` is false). */
  async checkpoint({ sync = true }: { sync?: boolean } = {}): Promise<void> {
    for (const reader of this.#readers.values()) {
      const previous = this.checkpointer.get(reader.streamId);
      if (previous && previous.offset === reader.committed && previous.path === reader.path) {
        this.checkpointer.touch(reader.streamId);
        continue;
      }
      const tail =
        reader.committed === reader.offset && reader.partialBytes === 0
          ? reader.tail.digest()
          : await readTail(reader.handle, reader.committed).catch(() => undefined);
      // Without the bytes before it (the file was truncated since) a checkpoint could not be verified: keep the last one.
      if (tail === undefined && reader.committed > 0) continue;
      this.#record(reader, tail ?? "");
    }
    await this.checkpointer.flush({ sync });
  }

  /** Closes the files (after stop and the last checkpoint). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelCheckpointTimer();
    await this.#checkpointing;
    this.checkpointer.close();
    for (const reader of this.#readers.values()) await reader.close();
    for (const early of this.#early.values()) await early.handle.close().catch(() => {});
    this.#early.clear();
    this.#readers.clear();
    this.#waiting.clear();
    this.#streams.clear();
  }

  /**
   * Opens a file the moment inotify reports it, so a file renamed away before the next scan
   * (rotation faster than the scan) is still held open and read; the next scan tracks it.
   */
  #openEarly(path: string): void {
    if (this.#stopping || !this.#paths.matches(path)) return;
    void (async () => {
      let handle: FileHandle | undefined;
      try {
        handle = await open(path, "r");
        const stat = await handle.stat();
        const ino = `${stat.dev}:${stat.ino}`;
        const known = this.#readers.get(ino);
        if (known && !known.truncated) {
          // A tracked file under a new name (renamed, still matched): known by it from now on.
          known.path = path;
          this.#byPath.set(path, known);
          this.#due.add(known);
          this.#wake?.();
          return;
        }
        if (!stat.isFile() || known || this.#early.has(ino) || this.#stopping) return;
        this.#early.set(ino, { handle, path, at: this.#options.now() });
        handle = undefined;
        this.#wake?.();
      } catch {
        // gone already
      } finally {
        await handle?.close().catch(() => {});
      }
    })();
  }

  /** Tracks files opened early (see #openEarly) that the glob may no longer find. */
  async #trackEarly(): Promise<void> {
    for (const [ino, early] of [...this.#early]) {
      let keep = false;
      try {
        if (this.#readers.has(ino)) throw new Error("tracked already");
        const stat = await early.handle.stat();
        keep = await this.#track(early.handle, early.path, ino, stat.size, false);
        // No complete first line yet: keep holding it a while (it may still be written to).
        if (!keep && stat.nlink > 0 && this.#options.now() - early.at < 60_000) {
          continue;
        }
      } catch {
        // unreadable, or tracked through the glob meanwhile: let this handle go
      }
      this.#early.delete(ino);
      if (!keep) await early.handle.close().catch(() => {});
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#turn();
      } catch (error) {
        // Never let one bad file stop the tailing of all: log, wait a moment, go on.
        this.#options.logger.error({ error }, "file source error; continuing");
        await new Promise((resolve) => setTimeout(resolve, this.#options.pollIntervalMs));
      }
    }
  }

  /**
   * One round: rescan if due, give files a turn, release finished files, idle if nothing moved.
   * While inotify watches every directory, a round's turns go to the files it reported changed,
   * those that read something last round and those a timer waits on (a partial line, a renamed
   * or deleted file), not to every file, and an idle round costs nothing per file: a node's
   * hundreds of idle files cost nothing. The safety net for a change inotify did not report:
   * every 10 × pollIntervalMs one fstat per open file (a file whose size is not what was read
   * gets a turn), and a rescan every 12 × globIntervalMs.
   */
  async #turn(): Promise<void> {
    const now = this.#options.now();
    const scanEvery = this.#deferred.size > 0 ? this.#options.pollIntervalMs : this.#scanInterval();
    const sinceScan = now - this.#lastScanAt;
    if (
      this.#scanDue ||
      (this.#dirScanDue && sinceScan >= this.#eventScanSpacing()) ||
      sinceScan >= scanEvery
    )
      await this.#scan();
    else if (this.#early.size > 0) await this.#trackEarly(); // new files, without a rescan
    if (!this.#unwatched && now - this.#lastSweepAt >= this.#sweepInterval()) {
      this.#lastSweepAt = now;
      await this.#sweep();
    }
    const turns = this.#unwatched
      ? [...this.#readers.values()]
      : [...new Set([...this.#due, ...this.#waiting])];
    this.#due.clear();
    let progressed = false;
    for (const reader of turns) {
      if (this.#stopping) break;
      if (this.#streams.get(reader.streamId) !== reader) continue; // released meanwhile
      if (await this.#pump(reader, turnBytes)) {
        progressed = true;
        this.#due.add(reader);
      }
      this.#updateWaiting(reader);
    }
    await this.#release();
    await this.#park();
    if (!progressed && !this.#stopping && !this.#scanDue && this.#due.size === 0)
      await this.#idle();
  }

  #eventScanSpacing(): number {
    return Math.min(eventScanSpacingMs, this.#options.globIntervalMs);
  }

  #scanInterval(): number {
    return this.#options.globIntervalMs * (this.#unwatched ? 1 : watchedScanFactor);
  }

  #sweepInterval(): number {
    return this.#options.pollIntervalMs * 10;
  }

  #updateWaiting(reader: FileReader): void {
    if (reader.partialBytes > 0 || reader.goneSince !== undefined || reader.truncated)
      this.#waiting.add(reader);
    else this.#waiting.delete(reader);
  }

  /** The safety net: one fstat per open file; a file not at the size it was read to gets a turn. */
  async #sweep(): Promise<void> {
    for (const reader of this.#readers.values()) {
      if (this.#due.has(reader) || this.#waiting.has(reader)) continue;
      try {
        const stat = await reader.handle.stat();
        if (stat.size !== reader.offset || stat.nlink === 0) this.#due.add(reader);
      } catch {
        this.#due.add(reader); // its turn reports it
      }
    }
  }

  /**
   * Waits for an inotify event, or the next timed work: a turn of the files a timer waits on
   * (each pollIntervalMs), else the next sweep or rescan. Every pollIntervalMs without inotify.
   */
  #idle(): Promise<void> {
    let wait = this.#options.pollIntervalMs;
    if (
      !this.#unwatched &&
      this.#waiting.size === 0 &&
      this.#deferred.size === 0 &&
      this.#early.size === 0
    ) {
      const now = this.#options.now();
      const next = Math.min(
        this.#lastSweepAt + this.#sweepInterval(),
        this.#lastScanAt + this.#scanInterval(),
      );
      wait = Math.max(wait, next - now);
    }
    if (this.#dirScanDue)
      wait = Math.min(
        wait,
        Math.max(1, this.#lastScanAt + this.#eventScanSpacing() - this.#options.now()),
      );
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  /** Reads up to `limit` bytes of one file into the pipeline; resolves whether it read anything. */
  async #pump(reader: FileReader, limit: number): Promise<boolean> {
    if (reader.truncated) return false;
    let total = 0;
    try {
      // Rewritten in place (copytruncate, then regrown past what was read): its start changed.
      const head = await this.#fingerprinter.fingerprint(reader.handle);
      if (head !== reader.fingerprint && (head !== undefined || reader.offset > 0))
        return this.#truncated(reader, "file rewritten; reading it again from the start");
      while (total < limit) {
        const bytes = await reader.readChunk(this.#buffer);
        if (bytes === 0) break;
        // copytruncate may have rewritten the file between the check above and this read: then
        // the chunk is the new content at the old offset. Checked again before the chunk is taken,
        // so a copy of the old content continues from an offset that was really read from it.
        if ((await this.#fingerprinter.fingerprint(reader.handle)) !== reader.fingerprint)
          return this.#truncated(reader, "file rewritten; reading it again from the start");
        const lines: SourceLine[] = [];
        reader.accept(this.#buffer, bytes, lines);
        total += bytes;
        this.#options.onRead?.(lines.length, bytes);
        if (lines.length > 0) await this.#emit!(lines);
      }
      if (total > 0) return true;
      const stat = await reader.handle.stat();
      reader.size = stat.size;
      if (stat.size < reader.offset)
        return this.#truncated(reader, "file truncated; reading it again from the start");
      if (stat.nlink === 0) reader.goneSince ??= this.#options.now();
      if (
        reader.partialBytes > 0 &&
        this.#options.now() - reader.lastGrowthAt >= this.#options.partialLineTimeoutMs
      ) {
        const out: SourceLine[] = [];
        if (reader.flushPartial(out)) await this.#emit!(out);
        return true;
      }
    } catch (error) {
      this.#options.logger.warn(
        { path: reader.path, error, code: LogsErrorCodes.FILE_READ },
        "cannot read file",
      );
      reader.goneSince ??= this.#options.now();
    }
    return total > 0;
  }

  #truncated(reader: FileReader, message: string): boolean {
    this.#options.logger.info({ path: reader.path, offset: reader.offset }, message);
    reader.truncated = true;
    this.#waiting.add(reader);
    this.#scanDue = true;
    return true;
  }

  /** Lets go of files that were renamed away, deleted or truncated, once read and acknowledged. */
  async #release(): Promise<void> {
    const now = this.#options.now();
    for (const reader of [...this.#waiting]) {
      const ino = reader.ino;
      const finished = reader.truncated
        ? reader.committed >= reader.offset - reader.partialBytes || this.#stopping
        : reader.goneSince !== undefined &&
          now - Math.max(reader.lastGrowthAt, reader.goneSince) >= this.#options.rotateWaitMs &&
          reader.committed >= reader.offset - reader.partialBytes;
      if (!finished) continue;
      if (!reader.truncated && reader.partialBytes > 0) {
        const out: SourceLine[] = [];
        reader.flushPartial(out);
        await this.#emit!(out);
        continue; // released once that line is acknowledged
      }
      // Its last position written at once (with the files acknowledged since the last write),
      // not every open file's.
      this.#committedSince.add(reader);
      this.#recordCommitted();
      this.#lastWriteAt = now;
      await this.checkpointer.flush().catch((error: unknown) => this.#checkpointFailed(error));
      this.#readers.delete(ino);
      this.#streams.delete(reader.streamId);
      if (this.#byPath.get(reader.path) === reader) this.#byPath.delete(reader.path);
      this.#due.delete(reader);
      this.#waiting.delete(reader);
      await reader.close();
      this.#options.logger.info(
        { path: reader.path, offset: reader.offset, truncated: reader.truncated },
        "file released",
      );
      if (reader.truncated) this.#scanDue = true;
    }
  }

  /**
   * Over maxOpenFiles, closes the least recently grown files that are read to their end and
   * acknowledged; their checkpoint (written first) is where they continue when they grow.
   */
  async #park(): Promise<void> {
    const max = this.#options.maxOpenFiles;
    if (max === undefined || this.#readers.size <= max || this.#stopping) return;
    const idle = [...this.#readers]
      .filter(
        ([, r]) =>
          !r.truncated &&
          r.goneSince === undefined &&
          r.offset === r.size &&
          r.committed === r.offset &&
          r.partialBytes === 0,
      )
      .sort(([, a], [, b]) => a.lastGrowthAt - b.lastGrowthAt)
      .slice(0, this.#readers.size - max);
    if (idle.length === 0) return;
    for (const [, reader] of idle) this.#record(reader, reader.tail.digest());
    try {
      this.checkpointer.writeNow();
    } catch (error) {
      this.#options.onCheckpointError?.();
      this.#options.logger.error({ error }, "checkpoint write failed; files kept open");
      return;
    }
    for (const [ino, reader] of idle) {
      this.#readers.delete(ino);
      this.#streams.delete(reader.streamId);
      if (this.#byPath.get(reader.path) === reader) this.#byPath.delete(reader.path);
      this.#due.delete(reader);
      this.#waiting.delete(reader);
      this.#parked.set(ino, { path: reader.path, size: reader.size, streamId: reader.streamId });
      await reader.close();
    }
    this.#options.logger.debug(
      { closed: idle.length, open: this.#readers.size },
      "idle files closed",
    );
  }

  async #scan(): Promise<void> {
    this.#scanDue = false;
    this.#dirScanDue = false;
    this.#lastScanAt = this.#options.now();
    const first = this.#firstScan;
    this.#firstScan = false;
    // Follow directories that appeared or went away (new pods, a log directory created late).
    const unwatched = await this.#paths.watch().catch(() => [""]);
    this.#unwatched = unwatched.length > 0;
    if (unwatched.length > 0)
      this.#options.logger[first ? "warn" : "debug"](
        { dirs: unwatched },
        "cannot watch directories; rescanning only",
      );
    let paths: string[];
    try {
      paths = await this.#paths.list();
    } catch (error) {
      this.#options.logger.warn({ error }, "cannot list files");
      return;
    }
    // A stat by path tells a tracked or closed file from a new one; only a new one is opened.
    // Every file is stat'ed first: a checkpoint's own file may come later in the list.
    const files: { path: string; found: Awaited<ReturnType<typeof stat>> }[] = [];
    this.#present = new Map();
    for (const path of paths) {
      try {
        const found = await stat(path);
        if (!found.isFile()) continue;
        files.push({ path, found });
        this.#present.set(`${found.dev}:${found.ino}`, found.size);
      } catch {
        // gone between glob and stat
      }
    }
    await this.#trackEarly();
    const seen = new Set<string>();
    for (const { path, found } of files) {
      const ino = `${found.dev}:${found.ino}`;
      seen.add(ino);
      const parked = this.#parked.get(ino);
      if (parked) {
        // Not grown since it was closed: stays closed. Grown: tracked again from its checkpoint.
        if (found.size === parked.size) {
          parked.path = path;
          this.checkpointer.touch(parked.streamId); // its checkpoint must not expire meanwhile
          continue;
        }
        this.#parked.delete(ino);
      }
      const known = this.#readers.get(ino);
      if (known) {
        if (!known.truncated) {
          known.path = path;
          known.goneSince = undefined;
        }
        continue;
      }
      let handle: FileHandle;
      try {
        handle = await open(path, "r");
      } catch {
        continue; // gone between stat and open, or unreadable
      }
      let keep = false;
      try {
        // What was opened may be another file than what was stat'ed (replaced meanwhile).
        const opened = await handle.stat();
        if (!opened.isFile()) continue;
        const openedIno = `${opened.dev}:${opened.ino}`;
        seen.add(openedIno);
        if (this.#readers.has(openedIno)) continue;
        keep = await this.#track(handle, path, openedIno, opened.size, first);
        if (!keep)
          this.#options.logger.debug(
            { path, ino: openedIno, size: opened.size },
            "file not tracked yet",
          );
      } finally {
        if (!keep) await handle.close().catch(() => {});
      }
    }
    const now = this.#options.now();
    for (const [ino, reader] of this.#readers)
      if (!seen.has(ino) && reader.goneSince === undefined) {
        reader.goneSince = now;
        this.#waiting.add(reader);
      }
    for (const ino of this.#parked.keys()) if (!seen.has(ino)) this.#parked.delete(ino);
    for (const ino of this.#deferred.keys())
      if (!seen.has(ino) && !this.#early.has(ino)) this.#deferred.delete(ino);
    this.#byPath = new Map([...this.#readers.values()].map((r) => [r.path, r]));
  }

  /** Whether an open file was truncated below what was read (a copy of it may continue it). */
  async #truncatedSince(reader: FileReader): Promise<boolean> {
    if (reader.truncated) return true;
    try {
      return (await reader.handle.stat()).size < reader.offset;
    } catch {
      return false;
    }
  }

  /** Holds a new file back (while its twin may still be truncated); false once held long enough. */
  #defer(ino: string): boolean {
    const now = this.#options.now();
    const since = this.#deferred.get(ino) ?? now;
    this.#deferred.set(ino, since);
    return now - since < this.#options.rotateWaitMs;
  }

  /** Whether the file a checkpoint was written for is still there, as long as its offset. */
  #ownerPresent(c: Checkpoint): boolean {
    if (this.#readers.has(c.ino)) return true;
    if (this.#parked.get(c.ino)?.streamId === c.streamId) return true;
    return (this.#present.get(c.ino) ?? -1) >= c.offset;
  }

  /** Decides where a newly found file starts and opens a reader for it; false when not yet. */
  async #track(
    handle: FileHandle,
    path: string,
    ino: string,
    size: number,
    first: boolean,
  ): Promise<boolean> {
    const fingerprint = await this.#fingerprinter.fingerprint(handle);
    if (fingerprint === undefined) return false; // no complete first line yet
    let streamId = fingerprint;
    let offset: number | undefined;
    // A live file with the same beginning whose content goes on past what was read (a copy, as
    // by copytruncate) continues from there; anything else is another file.
    // Content alone cannot tell a copy from another file that starts alike (two replicas' same
    // banner): a copy continues only once the file it copies was truncated (copytruncate does
    // that right after copying); until then, for at most rotateWaitMs, it waits.
    const live = [...this.#readers.values()].filter((r) => r.fingerprint === fingerprint);
    for (const reader of live) {
      if (
        offset === undefined &&
        size >= reader.offset &&
        (await readTail(handle, reader.offset)) === reader.tail.digest()
      ) {
        if (await this.#truncatedSince(reader))
          offset = reader.offset - reader.partialBytes; // its partial line is read again from the copy
        else if (this.#defer(ino)) return false;
      }
    }
    this.#deferred.delete(ino);
    if (live.length > 0 || this.#streams.has(streamId)) streamId = `${fingerprint}@${ino}`;
    if (offset === undefined) {
      // A checkpoint belongs to its device and inode: another file (same first line, even the
      // same bytes before the offset) takes it only once that file is gone or truncated.
      const candidates = this.checkpointer
        .withFingerprint(fingerprint)
        .filter(
          (c) =>
            !this.#streams.has(c.streamId) &&
            c.offset <= size &&
            (c.ino === ino || !this.#ownerPresent(c)),
        )
        .sort((a, b) => Number(b.ino === ino) - Number(a.ino === ino));
      for (const c of candidates) {
        if (
          c.offset === 0 ||
          (c.tail !== undefined && (await tailMatches(handle, c.offset, c.tail)))
        ) {
          offset = c.offset;
          streamId = c.streamId;
          break;
        }
      }
    }
    // Another file's checkpoint keeps its stream id: this file gets its own.
    if (offset === undefined && this.checkpointer.get(streamId)) streamId = `${fingerprint}@${ino}`;
    offset ??= first && this.#options.readFrom === "tail" ? size : 0;
    if (this.#streams.has(streamId)) streamId = `${fingerprint}@${ino}`;
    const reader = new FileReader({
      handle,
      path,
      ino,
      fingerprint,
      streamId,
      offset,
      size,
      ...(this.#options.label ? { label: this.#options.label(path) } : {}),
      now: this.#options.now,
      splitter: {
        maxLineBytes: this.#options.maxLineBytes,
        longLines: this.#options.longLines,
        now: this.#options.now,
        ...(this.#options.onLongLine ? { onLongLine: this.#options.onLongLine } : {}),
      },
    });
    this.#readers.set(ino, reader);
    this.#streams.set(streamId, reader);
    this.#byPath.set(path, reader);
    this.#due.add(reader);
    this.#options.logger.info({ path, streamId, offset }, "tailing file");
    return true;
  }
}
