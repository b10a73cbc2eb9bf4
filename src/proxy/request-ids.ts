import { crypto } from "../runtime/builtins.ts";

/**
 * Request ids (UUID v4) and W3C traceparents from one pool of cryptographically random bytes,
 * each formatted in a scratch buffer and read out as one flat string: `crypto.randomUUID()`
 * builds its string from 20-odd concatenations (~600 B of garbage per request at 13 B, the
 * largest single allocation of the request path after the transport's).
 */

/** Refilled with one getrandom call every 4096 / 24 requests. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
const scratch = Buffer.alloc(64);
const hexDigits = Buffer.from("0123456789abcdef", "latin1");

/** The offset in `pool` of `bytes` fresh random bytes. */
function take(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    crypto.randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += bytes;
  return at;
}

/** Writes pool[from, from + bytes) as lower-case hex into scratch at `at`; the offset after it. */
function hexInto(at: number, from: number, bytes: number): number {
  for (let i = from; i < from + bytes; i++) {
    const byte = pool[i]!;
    scratch[at++] = hexDigits[byte >> 4]!;
    scratch[at++] = hexDigits[byte & 15]!;
  }
  return at;
}

/** Whether pool[from, from + bytes) is all zero (an id W3C forbids). */
function allZero(from: number, bytes: number): boolean {
  for (let i = from; i < from + bytes; i++) if (pool[i] !== 0) return false;
  return true;
}

/**
 * A random UUID version 4 (RFC 9562), like `crypto.randomUUID()`.
 *
 * @example
 * newRequestId(); // "5f0c…-…-4…-[89ab]…-…"
 */
export function newRequestId(): string {
  const r = take(16);
  pool[r + 6] = (pool[r + 6]! & 0x0f) | 0x40;
  pool[r + 8] = (pool[r + 8]! & 0x3f) | 0x80;
  let at = hexInto(0, r, 4);
  scratch[at++] = 45; // "-"
  at = hexInto(at, r + 4, 2);
  scratch[at++] = 45;
  at = hexInto(at, r + 6, 2);
  scratch[at++] = 45;
  at = hexInto(at, r + 8, 2);
  scratch[at++] = 45;
  at = hexInto(at, r + 10, 6);
  return scratch.toString("latin1", 0, at);
}

/**
 * A new W3C traceparent: version 00, a random trace id and parent id (never all zero), sampled.
 *
 * @example
 * newTraceparent(); // "00-<32 hex>-<16 hex>-01"
 */
export function newTraceparent(): string {
  const r = take(24);
  if (allZero(r, 16)) pool[r + 15] = 1;
  if (allZero(r + 16, 8)) pool[r + 23] = 1;
  scratch[0] = 48; // "0"
  scratch[1] = 48;
  scratch[2] = 45;
  let at = hexInto(3, r, 16);
  scratch[at++] = 45;
  at = hexInto(at, r + 16, 8);
  scratch[at++] = 45;
  scratch[at++] = 48;
  scratch[at++] = 49; // "1"
  return scratch.toString("latin1", 0, at);
}
