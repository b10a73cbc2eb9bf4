import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { fs } from "../../../runtime/builtins.ts";

/**
 * How many bytes before an offset identify it. A checkpoint is reused, and a copytruncate copy
 * continued, only when the bytes before the offset are the same: 1 KiB spans about ten typical
 * lines with their timestamps, where the 32 bytes kept before could be the same in every line of
 * a JSON log (`…,"level":"info"}`).
 */
export const TAIL_BYTES = 1024;

const prefix = "h1:";

/** The digest stored in a checkpoint: "h1:" and base64 SHA-256 of the up-to-1 KiB before the offset. */
export function tailDigest(bytes: Buffer): string {
  return bytes.length === 0 ? "" : prefix + createHash("sha256").update(bytes).digest("base64");
}

/** The digest of the bytes before `offset` of an open file; undefined when it is shorter. */
export async function readTail(handle: FileHandle, offset: number): Promise<string | undefined> {
  const bytes = await readBefore(handle, offset, Math.min(TAIL_BYTES, offset));
  return bytes && tailDigest(bytes);
}

/** readTail, synchronously (for the checkpoint written after each acknowledged batch). */
export function readTailSync(handle: FileHandle, offset: number): string | undefined {
  const length = Math.min(TAIL_BYTES, offset);
  const buffer = Buffer.alloc(length);
  try {
    return fs.readSync(handle.fd, buffer, 0, length, offset - length) === length
      ? tailDigest(buffer)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the bytes before `offset` of an open file are those a stored tail describes. Tails
 * written before digests (base64 of the raw 32 bytes) are still understood.
 */
export async function tailMatches(
  handle: FileHandle,
  offset: number,
  stored: string,
): Promise<boolean> {
  if (offset === 0) return true;
  if (stored.startsWith(prefix)) return stored === (await readTail(handle, offset));
  const bytes = await readBefore(handle, offset, Math.min(32, offset));
  return bytes !== undefined && stored === bytes.toString("base64");
}

async function readBefore(
  handle: FileHandle,
  offset: number,
  length: number,
): Promise<Buffer | undefined> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, offset - length);
  return bytesRead === length ? buffer : undefined;
}

/** The last TAIL_BYTES bytes read from a file, kept in memory (the file may be truncated since). */
export class TailWindow {
  #bytes = Buffer.alloc(0);
  #digest: string | undefined = "";

  /** Takes a chunk just read (copied: the caller reuses its buffer). */
  push(chunk: Buffer): void {
    this.#bytes =
      chunk.length >= TAIL_BYTES
        ? Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES))
        : Buffer.concat([this.#bytes, chunk]).subarray(-TAIL_BYTES);
    this.#digest = undefined;
  }

  /** The digest of the bytes before the reader's offset, as readTail would compute it. */
  digest(): string {
    this.#digest ??= tailDigest(this.#bytes);
    return this.#digest;
  }
}
