/**
 * Parses one logfmt line (`key=value key2="quoted \"value\"" flag`) into a record; a bare key
 * is `true`. Returns undefined when the line is not logfmt (no key at all, an unclosed quote,
 * or text that is not key=value pairs).
 *
 * @example
 * parseLogfmt('level=info msg="hello world" n=3'); // { level: "info", msg: "hello world", n: "3" }
 */
export function parseLogfmt(text: string): Record<string, string | true> | undefined {
  const record: Record<string, string | true> = {};
  let i = 0;
  let pairs = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text[i] === " ") i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && text[i] !== "=" && text[i] !== " " && text[i] !== '"') i++;
    const key = text.slice(keyStart, i);
    if (key === "" || text[i] === '"') return undefined;
    if (i >= n || text[i] === " ") {
      record[key] = true;
      continue;
    }
    i++; // "="
    if (text[i] === '"') {
      i++;
      let value = "";
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === "\\" && i + 1 < n) {
          const next = text[i + 1]!;
          value += next === "n" ? "\n" : next === "t" ? "\t" : next;
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed || (i < n && text[i] !== " ")) return undefined;
      record[key] = value;
    } else {
      const valueStart = i;
      while (i < n && text[i] !== " ") i++;
      const value = text.slice(valueStart, i);
      if (value.includes('"') || value.includes("=")) return undefined;
      record[key] = value;
    }
    pairs++;
  }
  return pairs > 0 ? record : undefined;
}
