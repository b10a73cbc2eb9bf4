import type { IncomingHttpHeaders } from "node:http";

/** Fields whose later copies node:http drops (`joinDuplicateHeaders: false`): the first wins. */
const firstWins: ReadonlySet<string> = new Set([
  "content-type",
  "content-length",
  "user-agent",
  "referer",
  "host",
  "authorization",
  "proxy-authorization",
  "if-modified-since",
  "if-unmodified-since",
  "from",
  "location",
  "max-forwards",
  "retry-after",
  "etag",
  "last-modified",
  "server",
  "age",
  "expires",
]);

/**
 * `req.headers` as node:http builds it from raw [name, value, …] pairs: lower-case names,
 * `set-cookie` an array, `cookie` joined with "; ", the fields in `firstWins` keeping their
 * first value, any other repeated field joined with ", ". Differentially tested against node.
 */
export function incomingHeaders(rawHeaders: readonly string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    // As node: an inherited name (constructor, toString, …) is not a value seen before.
    const seen = headers[name];
    if (name === "set-cookie") {
      if (Array.isArray(seen)) seen.push(value);
      else headers[name] = [value];
    } else if (firstWins.has(name)) {
      if (seen === undefined) headers[name] = value;
    } else if (typeof seen === "string")
      headers[name] = `${seen}${name === "cookie" ? "; " : ", "}${value}`;
    else headers[name] = value;
  }
  return headers;
}
