import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { fs } from "../runtime/builtins.ts";
import { SidecarError } from "../runtime/errors.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import { fdClose, fdOpen, fdRead, pathStat } from "./fd.ts";
import type { Throttle } from "./throttle.ts";

/** The file changed while it was read: its copy is not recorded, and it is copied again later. */
export class FileChangedError extends Error {
  constructor(path: string, detail: string) {
    super(`File "${path}" changed while it was copied: ${detail}`);
    this.name = "FileChangedError";
  }
}

/** The file vanished between the scan and its copy. */
export class FileGoneError extends Error {
  constructor(path: string) {
    super(`File "${path}" is gone`);
    this.name = "FileGoneError";
  }
}

/** Size, mtime and inode: what must be the same before and after a copy for it to count. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

export async function statIdentity(path: string): Promise<FileIdentity | undefined> {
  try {
    const stat = await pathStat(path);
    return { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SidecarError(SyncErrorCodes.SOURCE, `Cannot stat "${path}"`, { cause: error });
  }
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return !!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function openSource(path: string): Readable {
  return fs.createReadStream(path, { highWaterMark: 256 * 1024 });
}

/** The hex SHA-256 and length of a file's content as read now. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of openSource(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new FileGoneError(path);
    throw new SidecarError(SyncErrorCodes.SOURCE, `Cannot read "${path}"`, { cause: error });
  }
  return { sha256: hash.digest("hex"), size };
}

/** Files below this are read once into memory, hashed and copied from there (a single read). */
export const smallFileBytes = 1024 * 1024;

/**
 * The whole content of a small file whose size the scan saw: open, one read of up to one byte
 * more than that, close (readFile would add an fstat and a read to find the end). A file that
 * grew reads longer, and the caller sees the size differ.
 */
export async function readSmallFile(path: string, expectedSize: number): Promise<Buffer> {
  let fd: number;
  try {
    fd = await fdOpen(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new FileGoneError(path);
    throw new SidecarError(SyncErrorCodes.SOURCE, `Cannot read "${path}"`, { cause: error });
  }
  try {
    const buffer = Buffer.allocUnsafe(expectedSize + 1);
    const bytesRead = await fdRead(fd, buffer, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    throw new SidecarError(SyncErrorCodes.SOURCE, `Cannot read "${path}"`, { cause: error });
  } finally {
    await fdClose(fd);
  }
}

export function sha256Of(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A buffer as a stream, paced by `throttle` when given. */
export function bufferStream(data: Buffer, throttle?: Throttle): Readable {
  const source = Readable.from([data], { objectMode: false });
  return throttle ? source.pipe(throttle.stream()) : source;
}

/**
 * A transform that passes bytes through and, at the end, fails with `onMismatch()` unless they
 * had exactly this SHA-256 and size: a target never completes an object whose content is not
 * what its name says.
 */
export function verifyingStream(
  expected: { sha256: string; size: number },
  onMismatch: (detail: string) => Error,
): Transform {
  const hash = createHash("sha256");
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      if (size > expected.size) return callback(onMismatch(`more than ${expected.size} bytes`));
      callback(null, chunk);
    },
    flush(callback) {
      const sha256 = hash.digest("hex");
      if (size !== expected.size)
        return callback(onMismatch(`${size} bytes, expected ${expected.size}`));
      if (sha256 !== expected.sha256)
        return callback(onMismatch(`SHA-256 ${sha256}, expected ${expected.sha256}`));
      callback();
    },
  });
}

/**
 * The content of `path` as a stream that fails with FileChangedError unless it hashes to
 * `expected` (read a second time, for the copy), paced by `throttle` when given.
 */
export function sourceStream(
  path: string,
  expected: { sha256: string; size: number },
  throttle?: Throttle,
): Readable {
  const source = openSource(path);
  const verify = verifyingStream(expected, (detail) => new FileChangedError(path, detail));
  const forward = (error: Error) => verify.destroy(error);
  source.once("error", (error) =>
    forward((error as NodeJS.ErrnoException).code === "ENOENT" ? new FileGoneError(path) : error),
  );
  if (!throttle) return source.pipe(verify);
  const paced = throttle.stream();
  paced.once("error", forward);
  return source.pipe(paced).pipe(verify);
}
