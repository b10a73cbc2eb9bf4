import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";
import { describeError, SidecarError } from "../../../runtime/errors.ts";
import { writeFileAtomic } from "../../../runtime/files/atomic-file.ts";
import { LogsErrorCodes } from "../../error-codes.ts";

/** One file's committed position: every line before `offset` was acknowledged by every sink. */
export interface Checkpoint {
  /** The stream id: the fingerprint, or fingerprint@device:inode when two files shared one. */
  streamId: string;
  fingerprint: string;
  /** The path the file had when last seen (for people reading the file; identity is the fingerprint). */
  path: string;
  offset: number;
  /** Device and inode when last seen: tells apart files with the same fingerprint. */
  ino: string;
  /** Base64 of the (up to 32) bytes before `offset`: a file with the same fingerprint continues here only when these match. */
  tail?: string;
  /** When this checkpoint last moved or the file was last seen, ms since the epoch. */
  updatedAt: number;
}

interface CheckpointFile {
  version: 1;
  /** Increases with every write, to tell the newer of the main and the fast file. */
  seq?: number;
  checkpoints: Checkpoint[];
}

export interface CheckpointerOptions {
  now?: () => number;
  /** Checkpoints of files not seen for this long are forgotten. Default 24 h. */
  expireAfterMs?: number;
  /** Whether a stream's file is open now: its checkpoint never expires, however old. */
  isLive?: (streamId: string) => boolean;
  /** Called after each write of either file (for the writes metric). */
  onWrite?: () => void;
}

/**
 * Keeps the committed positions of a file source in `<dir>/checkpoints.json`, written atomically
 * with the runtime's writeFileAtomic (temp file → fsync → rename → fsync of the directory). A crash leaves either the old or the new
 * file, never a torn one. On load an unreadable file is reported and ignored (files are then read
 * per `readFrom`), never fatal.
 */
export class Checkpointer {
  readonly path: string;
  readonly #fastPath: string;
  #fastFd: number | undefined;
  #fastLength = 0;
  #seq = 0;
  readonly #now: () => number;
  readonly #expireAfterMs: number;
  readonly #isLive: (streamId: string) => boolean;
  readonly #onWrite: (() => void) | undefined;
  readonly #entries = new Map<string, Checkpoint>();
  #dirty = false;
  #unsynced = false;
  #writing: Promise<void> | undefined;

  constructor(
    dir: string,
    {
      now = Date.now,
      expireAfterMs = 86_400_000,
      isLive = () => false,
      onWrite,
    }: CheckpointerOptions = {},
  ) {
    this.#isLive = isLive;
    this.#onWrite = onWrite;
    this.path = join(dir, "checkpoints.json");
    this.#fastPath = join(dir, "checkpoints.fast.json");
    this.#now = now;
    this.#expireAfterMs = expireAfterMs;
  }

  /**
   * Reads the checkpoint file. Resolves with a problem description when it exists but cannot be
   * used (the caller logs it with SIDECAR_ERR_LOGS_CHECKPOINT_READ), else undefined.
   */
  async load(): Promise<SidecarError | undefined> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new SidecarError(
        LogsErrorCodes.STATE_DIR,
        `Cannot create state directory "${dirname(this.path)}": ${describeError(error)}`,
        { cause: error },
      );
    }
    const main = await this.#read(this.path);
    const fast = await this.#read(this.#fastPath);
    // The newest readable one wins: the fast file is rewritten after every acknowledged batch,
    // the main one (fsynced) each second; a torn fast file (crash of the machine) fails to parse.
    const chosen =
      fast.file && (!main.file || (fast.file.seq ?? 0) > (main.file.seq ?? 0)) ? fast : main;
    if (!chosen.file) return main.problem;
    this.#seq = Math.max(main.file?.seq ?? 0, fast.file?.seq ?? 0);
    for (const entry of chosen.file.checkpoints) {
      if (
        typeof entry.streamId === "string" &&
        typeof entry.fingerprint === "string" &&
        typeof entry.ino === "string" &&
        Number.isSafeInteger(entry.offset)
      )
        this.#entries.set(entry.streamId, entry);
    }
    return undefined;
  }

  async #read(path: string): Promise<{ file?: CheckpointFile; problem?: SidecarError }> {
    try {
      const parsed = JSON.parse(await readFile(path, "utf8")) as CheckpointFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.checkpoints))
        throw new Error(`unexpected version ${String(parsed.version)}`);
      return { file: parsed };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      return {
        problem: new SidecarError(
          LogsErrorCodes.CHECKPOINT_READ,
          `Cannot read checkpoint file "${path}": ${describeError(error)}`,
          { cause: error },
        ),
      };
    }
  }

  /** Marks a checkpoint as seen now (a file still open is never expired). */
  touch(streamId: string): void {
    const entry = this.#entries.get(streamId);
    if (entry) entry.updatedAt = this.#now();
  }

  /** The checkpoint of a stream. */
  get(streamId: string): Checkpoint | undefined {
    return this.#entries.get(streamId);
  }

  /** The checkpoints of streams whose file starts with `fingerprint`. */
  withFingerprint(fingerprint: string): Checkpoint[] {
    return this.all().filter((entry) => entry.fingerprint === fingerprint);
  }

  /** Records a committed position (written by the next flush). */
  set(entry: Omit<Checkpoint, "updatedAt">): void {
    const previous = this.#entries.get(entry.streamId);
    const updatedAt = this.#now();
    if (
      previous &&
      previous.offset === entry.offset &&
      previous.path === entry.path &&
      previous.tail === entry.tail
    ) {
      previous.updatedAt = updatedAt;
      return;
    }
    this.#entries.set(entry.streamId, { ...entry, updatedAt });
    this.#dirty = true;
  }

  /** Whether positions were written without fsync since the last fsynced write. */
  get unsynced(): boolean {
    return this.#unsynced;
  }

  /** Every checkpoint, for status and tests. */
  all(): Checkpoint[] {
    return [...this.#entries.values()];
  }

  /**
   * Writes the file if anything changed (or, with `sync`, if it was written without fsync since);
   * one write at a time. Without `sync` the new file survives a crash of the process (the page
   * cache keeps it) but not of the machine; with it, it is fsynced before and after the rename.
   */
  async flush({ sync = true }: { sync?: boolean } = {}): Promise<void> {
    while (this.#writing) await this.#writing;
    if (!this.#dirty && !(sync && this.#unsynced)) return;
    this.#writing = this.#write(sync).finally(() => {
      this.#writing = undefined;
    });
    await this.#writing;
  }

  /**
   * Writes the positions now, synchronously and without fsync, with one positional write over
   * `checkpoints.fast.json` (kept open; padded to its previous length so no old bytes remain):
   * cheap enough to run after every acknowledged batch, and it survives a crash of the process.
   * On load the newest readable of the two files wins. Throws CHECKPOINT_WRITE.
   */
  writeNow(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#unsynced = true;
    try {
      this.#fastFd ??= fs.openSync(this.#fastPath, "w");
      const text = JSON.stringify({ version: 1, seq: ++this.#seq, checkpoints: this.all() });
      const body = Buffer.from(
        `${text}\n${" ".repeat(Math.max(0, this.#fastLength - text.length - 1))}`,
      );
      fs.writeSync(this.#fastFd, body, 0, body.length, 0);
      this.#fastLength = body.length;
      this.#onWrite?.();
    } catch (error) {
      this.#dirty = true;
      throw new SidecarError(
        LogsErrorCodes.CHECKPOINT_WRITE,
        `Cannot write checkpoint file "${this.#fastPath}": ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  /** Closes the fast file. */
  close(): void {
    if (this.#fastFd !== undefined) fs.closeSync(this.#fastFd);
    this.#fastFd = undefined;
  }

  async #write(sync: boolean): Promise<void> {
    this.#dirty = false;
    this.#unsynced = !sync;
    const cutoff = this.#now() - this.#expireAfterMs;
    for (const [key, entry] of this.#entries)
      if (entry.updatedAt < cutoff && !this.#isLive(key)) this.#entries.delete(key);
    const body: CheckpointFile = { version: 1, seq: ++this.#seq, checkpoints: this.all() };
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(body)}\n`, { fsync: sync });
      this.#onWrite?.();
    } catch (error) {
      this.#dirty = true;
      throw new SidecarError(
        LogsErrorCodes.CHECKPOINT_WRITE,
        `Cannot write checkpoint file "${this.path}": ${describeError(error)}`,
        { cause: error },
      );
    }
  }
}
