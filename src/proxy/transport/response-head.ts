import { isToken, isValidFieldValue, isValidReason, parseContentLength } from "./field-syntax.ts";

/** A response's status line and header section, with its framing fields checked. */
export interface ResponseHead {
  status: number;
  message: string;
  /** HTTP/1.0 (keep-alive only when asked for). */
  http10: boolean;
  /** Raw [name, value, …] pairs, values without surrounding whitespace. */
  raw: string[];
  /** The one valid Content-Length, when there is one. */
  contentLength: number | undefined;
  /** The values of every Transfer-Encoding line (empty when none). */
  transferEncoding: string[];
  /** Connection values, lower case, each followed by a comma. */
  connection: string;
}

/** The status line: "HTTP/1.x NNN" with an optional " reason" (RFC 9112 §4). */
function parseStatusLine(line: string): ResponseHead | string {
  // As /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/ would, without the match arrays.
  const c7 = line.charCodeAt(7);
  const d0 = line.charCodeAt(9) - 48;
  const d1 = line.charCodeAt(10) - 48;
  const d2 = line.charCodeAt(11) - 48;
  if (
    !line.startsWith("HTTP/1.") ||
    (c7 !== 48 && c7 !== 49) ||
    line.charCodeAt(8) !== 32 ||
    !(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
    (line.length > 12 && line.charCodeAt(12) !== 32)
  )
    return "invalid status line";
  const message = line.length > 12 ? line.slice(13) : "";
  if (message.includes("\r") || message.includes("\n")) return "invalid status line";
  if (!isValidReason(message)) return "invalid reason phrase";
  return {
    status: d0 * 100 + d1 * 10 + d2,
    message,
    http10: c7 === 48,
    raw: [],
    contentLength: undefined,
    transferEncoding: [],
    connection: "",
  };
}

/**
 * Parses a response head (the text before the blank line, CRLF-separated); the reason it is
 * malformed as a string otherwise. A message is framed by exactly one rule (RFC 9112 §6.3), so
 * a Content-Length that is not digits, a second Content-Length (even an equal one, as llhttp)
 * and Content-Length together with Transfer-Encoding are all errors.
 */
export function parseResponseHead(text: string): ResponseHead | string {
  let eol = text.indexOf("\r\n");
  if (eol === -1) eol = text.length;
  const head = parseStatusLine(eol === text.length ? text : text.slice(0, eol));
  if (typeof head === "string") return head;
  let lengths = 0;
  while (eol < text.length) {
    const start = eol + 2;
    eol = text.indexOf("\r\n", start);
    if (eol === -1) eol = text.length;
    // One field line, as parseFieldLine checks it, without a [name, value] array per line.
    const colon = text.indexOf(":", start);
    if (colon <= start || colon >= eol) return "invalid header line";
    const name = text.slice(start, colon);
    if (!isToken(name)) return "invalid header line";
    let from = colon + 1;
    let to = eol;
    while (from < to && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
    while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--;
    const value = text.slice(from, to);
    if (!isValidFieldValue(value)) return "invalid header line";
    head.raw.push(name, value);
    // Only names of these lengths can be framing fields: skip lower-casing the others.
    if (name.length !== 14 && name.length !== 17 && name.length !== 10) continue;
    const lower = name.toLowerCase();
    if (lower === "content-length") {
      lengths += 1;
      head.contentLength = parseContentLength(value);
      if (head.contentLength === undefined) return "invalid Content-Length";
      if (lengths > 1) return "duplicate Content-Length";
    } else if (lower === "transfer-encoding") {
      if (value === "") return "empty Transfer-Encoding";
      // llhttp does not take "chunked<HTAB>" as chunked: keep the tab so it is refused.
      head.transferEncoding.push(text.slice(start, eol).includes("\t") ? `${value}\t` : value);
    } else if (lower === "connection") head.connection += `${value.toLowerCase()},`;
  }
  if (lengths > 0 && head.transferEncoding.length > 0)
    return "both Content-Length and Transfer-Encoding";
  return head;
}
