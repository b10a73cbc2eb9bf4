import type { FileHandle } from "node:fs/promises";
import type { SourceLine } from "../../log-event.ts";
import { LineSplitter, type LineSplitterOptions } from "../line-splitter.ts";
import { TailWindow } from "./tail-digest.ts";

export interface FileReaderOptions {
  handle: FileHandle;
  path: string;
  /** "device:inode" of the open file. */
  ino: string;
  fingerprint: string;
  streamId: string;
  /** The lines' `source`; default the path. */
  label?: string;
  /** Where reading starts (a checkpoint, 0, or the end for readFrom tail). */
  offset: number;
  size: number;
  splitter: Omit<LineSplitterOptions, "streamId" | "source" | "offset">;
  now: () => number;
}

/**
 * One open file being tailed: reads big chunks from its own file descriptor (so a renamed or
 * deleted file is still read to its end), splits them into lines, and tracks what was read and
 * what was committed.
 */
export class FileReader {
  readonly handle: FileHandle;
  readonly ino: string;
  readonly fingerprint: string;
  readonly streamId: string;
  readonly #splitter: LineSplitter;
  readonly #now: () => number;
  /** The path it was last found at. */
  path: string;
  /** The file's size when last seen. */
  size: number;
  /** Every line before this offset was acknowledged by every sink. */
  committed: number;
  /** When the file last grew (or was opened). */
  lastGrowthAt: number;
  /** The paths no longer lead to this file (renamed away or deleted) since this time. */
  goneSince: number | undefined;
  /** Set when the file shrank below what was read (copytruncate): the reader is retired. */
  truncated = false;
  /** The bytes before `offset`, kept in memory (the file may be truncated since). */
  readonly tail = new TailWindow();

  constructor(options: FileReaderOptions) {
    this.handle = options.handle;
    this.path = options.path;
    this.ino = options.ino;
    this.fingerprint = options.fingerprint;
    this.streamId = options.streamId;
    this.size = options.size;
    this.committed = options.offset;
    this.#now = options.now;
    this.lastGrowthAt = options.now();
    this.#splitter = new LineSplitter({
      ...options.splitter,
      streamId: options.streamId,
      source: options.label ?? options.path,
      offset: options.offset,
    });
  }

  /** Offset of the next byte to read. */
  get offset(): number {
    return this.#splitter.offset;
  }

  /** Bytes read past the last complete line. */
  get partialBytes(): number {
    return this.#splitter.partialBytes;
  }

  /**
   * Reads one chunk into `buffer` and appends the completed lines to `out`. Resolves with the
   * bytes read (0 at the end of the file).
   */
  async read(buffer: Buffer, out: SourceLine[]): Promise<number> {
    const bytesRead = await this.readChunk(buffer);
    this.accept(buffer, bytesRead, out);
    return bytesRead;
  }

  /** Reads the next chunk into `buffer` without taking it yet (see accept); resolves with its size. */
  async readChunk(buffer: Buffer): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
    return bytesRead;
  }

  /** Takes the chunk readChunk read: splits it into lines appended to `out` and moves the offset. */
  accept(buffer: Buffer, bytesRead: number, out: SourceLine[]): void {
    if (bytesRead > 0) {
      this.#splitter.push(buffer.subarray(0, bytesRead), out);
      this.tail.push(buffer.subarray(0, bytesRead));
      this.lastGrowthAt = this.#now();
      if (this.offset > this.size) this.size = this.offset;
    }
  }

  /** Emits a held partial line (timeout, end of a rotated file, shutdown). */
  flushPartial(out: SourceLine[]): boolean {
    return this.#splitter.flushPartial(out);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}
