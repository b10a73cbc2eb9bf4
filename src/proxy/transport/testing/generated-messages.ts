/**
 * What the request and response generators of the differential tests share: a seeded PRNG, the
 * picks, chunked bodies and the byte-level damage done to a message. Deterministic per seed.
 */

export type Rand = () => number;

/** mulberry32: a small seeded PRNG, so that a failing case is reproduced by its seed. */
export function seededRandom(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rand: Rand, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)]!;
export const chance = (rand: Rand, p: number): boolean => rand() < p;

export function shuffle<T>(rand: Rand, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A body of up to `max - 1` pieces, a message's start line among them (a smuggling attempt). */
export function messageBody(rand: Rand, max: number, startLine: string): string {
  const n = Math.floor(rand() * max);
  let s = "";
  for (let i = 0; i < n; i++) s += pick(rand, ["a", "b", "\r\n", "0", startLine]);
  return s;
}

const sizes = (n: number) => [n.toString(16), n.toString(16).toUpperCase(), `00${n.toString(16)}`];

/** A chunked body (bad sizes, extensions, a missing CRLF now and then) and its trailers. */
export function chunkedBody(
  rand: Rand,
  parts: {
    body: () => string;
    badSizes: readonly string[];
    extensions: readonly string[];
    trailerFields: readonly string[];
  },
): string {
  let out = "";
  const chunks = Math.floor(rand() * 3);
  for (let i = 0; i < chunks; i++) {
    const data = parts.body() || "x";
    const ext = chance(rand, 0.2) ? pick(rand, parts.extensions) : "";
    let size = pick(rand, sizes(Buffer.byteLength(data, "latin1")));
    if (chance(rand, 0.05)) size = pick(rand, [...parts.badSizes, `${size} `]);
    out += `${size}${ext}\r\n${data}${chance(rand, 0.05) ? "X" : ""}\r\n`;
  }
  out += `${chance(rand, 0.1) ? "000" : "0"}${chance(rand, 0.1) ? pick(rand, parts.extensions) : ""}\r\n`;
  const trailers = chance(rand, 0.3) ? Math.floor(rand() * 3) : 0;
  for (let i = 0; i < trailers; i++) out += `${pick(rand, parts.trailerFields)}\r\n`;
  return `${out}\r\n`;
}

/**
 * Byte-level damage anywhere in a message: a bare LF or CR, obs-fold, a control or non-ASCII
 * byte, a deletion, whitespace before a colon, a duplicated line, or any byte.
 */
export function mutate(rand: Rand, text: string): string {
  const at = Math.floor(rand() * text.length);
  switch (Math.floor(rand() * 7)) {
    case 0: {
      const crlf = text.indexOf("\r\n", at);
      if (crlf === -1) return text;
      return chance(rand, 0.5)
        ? text.slice(0, crlf) + text.slice(crlf + 1)
        : text.slice(0, crlf + 1) + text.slice(crlf + 2);
    }
    case 1: {
      const crlf = text.indexOf("\r\n", at);
      return crlf === -1
        ? text
        : `${text.slice(0, crlf)}\r\n${pick(rand, [" ", "\t"])}folded${text.slice(crlf)}`;
    }
    case 2:
      return (
        text.slice(0, at) +
        pick(rand, [
          "\u0000",
          "\u0001",
          "\u007f",
          "\r",
          "\n",
          "\t",
          " ",
          "\u00ff",
          "\u00a0",
          "\u0085",
          "\u000b",
          "\u000c",
        ]) +
        text.slice(at)
      );
    case 3:
      return text.slice(0, at) + text.slice(at + 1);
    case 4: {
      const colon = text.indexOf(":", at);
      return colon === -1 ? text : `${text.slice(0, colon)} ${text.slice(colon)}`;
    }
    case 5: {
      const crlf = text.indexOf("\r\n", at);
      const next = crlf === -1 ? -1 : text.indexOf("\r\n", crlf + 2);
      return next === -1 ? text : text.slice(0, next) + text.slice(crlf, next) + text.slice(next);
    }
    default:
      return text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + text.slice(at + 1);
  }
}
