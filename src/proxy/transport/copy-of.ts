/**
 * A copy of `bytes` in memory of its own, not zero-filled first: `Buffer.from(buffer)` zero-fills
 * a new ArrayBuffer before copying into it, which made the copy of each 64 KiB body chunk read
 * from a shared read buffer cost more than the rest of the request path.
 *
 * @example
 * const kept = copyOf(view); // view's memory may now be reused
 */
export function copyOf(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafe(bytes.length);
  bytes.copy(copy);
  return copy;
}
