import type { Readable } from "node:stream";
import type { FileIdentity } from "../copy.ts";
import type { ByteRange } from "../manifest.ts";

/** An object the target holds: its key (`objects/ab/ab12…`, `manifests/…`) and size. */
export interface TargetObject {
  key: string;
  /** Bytes; present when the listing was asked for sizes (or had them for free). */
  size?: number;
}

/** A file for `putFiles`: its path and the size the scan saw. */
export interface LocalFile {
  path: string;
  size: number;
}

/** A file `putFiles` read, and stored unless the target held its content. */
export interface StoredFile {
  sha256: string;
  size: number;
  /** Bytes written to the target: 0 when it held the content already. */
  copied: number;
  after: FileIdentity | undefined;
  /**
   * Where its content is in the pack this call wrote (`bytes` long); absent when `held` said
   * the target has it.
   */
  pack?: { sha256: string; offset: number; bytes: number };
}

/**
 * Where backups go: a flat key → bytes store, implemented by a directory and by S3. Every
 * write is atomic: a reader sees the whole object or none of it. Failures reject with
 * SidecarError SIDECAR_ERR_SYNC_TARGET whose message never holds a credential.
 */
export interface SyncTarget {
  /** Where, for logs and status: a path or `s3://bucket/prefix` (never a credential). */
  readonly description: string;
  /** Writes a small object (a manifest) whole. */
  put(key: string, data: string | Uint8Array): Promise<void>;
  /**
   * Writes an object of `size` bytes from the stream `open()` returns; the target calls it when
   * it is ready to read (so no error of the stream goes unheard). When the stream errors (e.g.
   * the file changed while it was read), the object is not created and the promise rejects
   * with that error. `data`, when given, is the whole content already in memory (a small file,
   * read once and hashed): a target may write it as it is and never call `open()`.
   */
  putStream(key: string, open: () => Readable, size: number, data?: Uint8Array): Promise<void>;
  /**
   * Packs local files: reads each (its SHA-256, and its size, mtime and inode after), then
   * writes the contents `held` says the target does not have, each once, one after the other
   * as one object named by the SHA-256 of it all (a pack; a pack of one content is that
   * content's own object). Small files (under 1 MiB) are read whole; a bigger one must be alone
   * in its call, is read in chunks, and read again as it is written (FileChangedError when it
   * differs). One result per file, in order: a StoredFile, or the file's error —
   * FileGoneError, FileChangedError (its size is not `size`, what the scan saw),
   * SIDECAR_ERR_SYNC_SOURCE. Rejects with SIDECAR_ERR_SYNC_TARGET when the target fails.
   * `after` is undefined when the file is gone since. Absent where putStream is the only way (S3).
   */
  putFiles?(
    files: readonly LocalFile[],
    held: (sha256: string) => boolean,
  ): Promise<(StoredFile | Error)[]>;
  /**
   * Copies an object the target holds to another key, atomically, without sending its bytes
   * again (a directory: a hard link renamed into place; S3: CopyObject). Where absent, the
   * caller writes the bytes with `put`.
   */
  copy?(from: string, to: string): Promise<void>;
  /** Reads an object, or `range` of it; rejects (TARGET) when it is missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Reads a small object as text, or undefined when it is missing. */
  getText(key: string): Promise<string | undefined>;
  /** Every object whose key starts with `prefix`, with sizes when `sizes` (default true). */
  list(prefix: string, options?: { sizes?: boolean }): Promise<TargetObject[]>;
  /** Deletes objects; a missing one is not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Makes every object written so far durable (a directory's fsyncs); before a manifest is written. */
  flush(): Promise<void>;
  /**
   * At start: removes what an interrupted write left (temp files, incomplete multipart uploads)
   * and returns the objects under `objects/` (with a directory, in the same walk), with their
   * sizes where the listing has them for free (S3).
   */
  recover(): Promise<TargetObject[]>;
  /**
   * For a target whose objects are durable only after `flush()` (a directory): checks objects
   * no version names, which a crash before a flush may have left torn. Keeps (and flushes with
   * the next flush) those whose content matches their name, deletes the others, returns the
   * keys kept. Absent where an object exists only whole and durable (S3).
   */
  checkUnnamed?(keys: readonly string[]): Promise<string[]>;
  close(): void;
}
