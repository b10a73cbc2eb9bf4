import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

export interface FingerprinterOptions {
  /** The fingerprint covers the first line, or this many bytes when the first line is longer. Default 1024. */
  maxBytes?: number;
}

/**
 * Identifies a file by a checksum of its beginning, not by path or inode (inodes are reused, paths
 * are renamed). The checksum covers the first line up to its newline, or the first `maxBytes`
 * bytes when the first line is longer: both are stable once written, so a growing file keeps its
 * fingerprint. A file whose first line is not complete yet (and shorter than `maxBytes`) has no
 * fingerprint yet: it is read once it has one. Two files with the same first line get the same
 * checksum; the file source tells them apart by device and inode while both are open.
 *
 * @example
 * const fp = await new Fingerprinter().fingerprint(handle); // "3f2a…" or undefined
 */
export class Fingerprinter {
  readonly #maxBytes: number;
  readonly #buffer: Buffer;

  constructor({ maxBytes = 1024 }: FingerprinterOptions = {}) {
    if (!(maxBytes >= 16)) throw new RangeError("fingerprint maxBytes must be at least 16");
    this.#maxBytes = maxBytes;
    this.#buffer = Buffer.alloc(maxBytes);
  }

  /** The fingerprint of an open file, or undefined while it has no complete first line. */
  async fingerprint(handle: FileHandle): Promise<string | undefined> {
    const { bytesRead } = await handle.read(this.#buffer, 0, this.#maxBytes, 0);
    return this.ofPrefix(this.#buffer.subarray(0, bytesRead));
  }

  /** The fingerprint of a file that starts with `prefix`, or undefined when too short to tell. */
  ofPrefix(prefix: Buffer): string | undefined {
    const nl = prefix.indexOf(10);
    let end: number;
    if (nl !== -1 && nl < this.#maxBytes) end = nl + 1;
    else if (prefix.length >= this.#maxBytes) end = this.#maxBytes;
    else return undefined;
    return createHash("sha256").update(prefix.subarray(0, end)).digest("hex").slice(0, 24);
  }
}
