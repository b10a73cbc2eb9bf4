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

const slabBytes = 64 * 1024;
/** Slabs whose copies were written: reused, so a copy touches no fresh memory. */
const freeSlabs: Buffer[] = [];
const maxFreeSlabs = 16;

/**
 * A copy of `bytes` (up to 64 KiB, a shared read's size) in a reused 64 KiB slab, and the
 * function that gives the slab back once the copy was written (a socket's write callback).
 * A fresh copy per body chunk costs page faults: glibc gives the freed 64 KiB chunks back
 * to the kernel (its heap shrinks) and the next copy faults them in again, ~10 faults and a
 * `brk` per 64 KiB response. A copy that is never given back is collected as any buffer.
 *
 * @example
 * const [copy, done] = slabCopyOf(view);
 * socket.write(copy, done);
 */
export function slabCopyOf(bytes: Buffer): [Buffer, () => void] {
  if (bytes.length > slabBytes) return [copyOf(bytes), noop];
  const slab = freeSlabs.pop() ?? Buffer.allocUnsafeSlow(slabBytes);
  bytes.copy(slab);
  let given = false;
  return [
    slab.subarray(0, bytes.length),
    () => {
      if (given) return;
      given = true;
      if (freeSlabs.length < maxFreeSlabs) freeSlabs.push(slab);
    },
  ];
}

function noop(): void {}
