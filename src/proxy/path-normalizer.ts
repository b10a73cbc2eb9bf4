import type { PathNormalization } from "./path-normalization-config.ts";

/** The schema's defaults (path-normalization-config.ts), without loading the schema library. */
export const defaultPathNormalization: PathNormalization = {
  encodedSlashes: "reject",
  pathParameters: "strip",
  mergeSlashes: true,
};

/** A normalized path, or why the path was refused (the reason ends up in the 400's message). */
export type NormalizedPath = { path: string } | { refused: string };

const unreserved = /[A-Za-z0-9\-._~]/;

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Normalizes the path of a request target (without the query) as RFC 3986 §6.2.2 and Envoy's
 * `normalize_path` + `merge_slashes` do: percent-encoded unreserved characters are decoded
 * (`%2e` → `.`, `%41` → `A`), other escapes upper-cased, dot segments removed (`/a/../b` →
 * `/b`, never above the root), slashes merged, and path parameters and encoded slashes
 * handled per `options`. Refuses a fragment, a NUL byte and a malformed escape.
 *
 * @example
 * normalizePath("/public/%2e%2e//admin;x"); // { path: "/admin" }
 * normalizePath("/a%2Fb"); // { refused: "encoded slash …" }
 */
export function normalizePath(
  raw: string,
  options: PathNormalization = defaultPathNormalization,
): NormalizedPath {
  // The common case: nothing that could need a change.
  if (!/[%\\;#]|\/\.|\/\//.test(raw)) return { path: raw };
  if (raw.includes("#")) return { refused: "a fragment (#) in the request target" };
  let decoded = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === "\\") {
      if (options.encodedSlashes === "reject") return { refused: "a backslash in the path" };
      decoded += options.encodedSlashes === "decode" ? "/" : ch;
      continue;
    }
    if (ch !== "%") {
      decoded += ch;
      continue;
    }
    const hi = hex(raw.charCodeAt(i + 1));
    const lo = hex(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return { refused: `a malformed escape "${raw.slice(i, i + 3)}"` };
    const code = hi * 16 + lo;
    i += 2;
    if (code === 0) return { refused: "an encoded NUL (%00) in the path" };
    const char = String.fromCharCode(code);
    if (char === "/" || char === "\\") {
      if (options.encodedSlashes === "reject")
        return { refused: `an encoded slash (%${raw.slice(i - 1, i + 1).toUpperCase()})` };
      decoded +=
        options.encodedSlashes === "decode" ? "/" : `%${raw.slice(i - 1, i + 1).toUpperCase()}`;
    } else if (code < 0x80 && unreserved.test(char)) decoded += char;
    else decoded += `%${raw.slice(i - 1, i + 1).toUpperCase()}`;
  }
  const segments = decoded.split("/");
  const out: string[] = [];
  // segments[0] is "" (the path starts with "/"), or the whole path when it does not.
  const last = segments.length - 1;
  for (let s = 1; s <= last; s++) {
    let segment = segments[s]!;
    const semi = segment.indexOf(";");
    if (semi !== -1 && options.pathParameters !== "keep") {
      if (options.pathParameters === "reject") return { refused: "a path parameter (;)" };
      segment = segment.slice(0, semi);
    }
    if (segment === ".") {
      if (s === last) out.push("");
    } else if (segment === "..") {
      out.pop();
      if (s === last) out.push("");
    } else if (segment === "" && options.mergeSlashes && s !== last) {
      // "//" merged; a trailing "/" stays
    } else out.push(segment);
  }
  return { path: `${segments[0]}/${out.join("/")}` };
}
