import { isValidReason, parseContentLength, parseFieldLine } from "./field-syntax.ts";

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

const statusLinePattern = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;

/**
 * Parses a response head (the text before the blank line, CRLF-separated); the reason it is
 * malformed as a string otherwise. A message is framed by exactly one rule (RFC 9112 §6.3), so
 * a Content-Length that is not digits, a second Content-Length (even an equal one, as llhttp)
 * and Content-Length together with Transfer-Encoding are all errors.
 */
export function parseResponseHead(text: string): ResponseHead | string {
  const lines = text.split("\r\n");
  const m = statusLinePattern.exec(lines[0]!);
  if (!m) return "invalid status line";
  const message = m[3] ?? "";
  if (!isValidReason(message)) return "invalid reason phrase";
  const head: ResponseHead = {
    status: Number(m[2]),
    message,
    http10: m[1] === "0",
    raw: [],
    contentLength: undefined,
    transferEncoding: [],
    connection: "",
  };
  let lengths = 0;
  for (let i = 1; i < lines.length; i++) {
    const field = parseFieldLine(lines[i]!);
    if (!field) return "invalid header line";
    const [name, value] = field;
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
      head.transferEncoding.push(lines[i]!.includes("\t") ? `${value}\t` : value);
    } else if (lower === "connection") head.connection += `${value.toLowerCase()},`;
  }
  if (lengths > 0 && head.transferEncoding.length > 0)
    return "both Content-Length and Transfer-Encoding";
  return head;
}
