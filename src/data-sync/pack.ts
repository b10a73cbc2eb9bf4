import { createHash } from "node:crypto";

/** A pack's layout: the SHA-256 naming it, where each content starts, its length. */
export interface PackLayout {
  sha256: string;
  offsets: number[];
  bytes: number;
}

/**
 * A pack: contents one after the other, as one object named by the SHA-256 of them all. A
 * pack of one content is that content's own object (the same bytes, the same name).
 *
 * @example
 * const { sha256, offsets } = packOf([Buffer.from("alpha"), Buffer.from("bravo")]);
 */
export function packOf(contents: readonly Uint8Array[]): PackLayout {
  const hash = createHash("sha256");
  const offsets: number[] = [];
  let bytes = 0;
  for (const content of contents) {
    hash.update(content);
    offsets.push(bytes);
    bytes += content.length;
  }
  return { sha256: hash.digest("hex"), offsets, bytes };
}
