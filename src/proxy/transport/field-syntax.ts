/**
 * The field and chunk syntax of HTTP/1.1 messages (RFC 9110 §5, RFC 9112 §7.1) as the upstream
 * side checks it, shared by the response parser and the node:http transport.
 */

const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const badValuePattern = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const tchar = "!#$%&'*+\\-.^_`|~0-9A-Za-z";
/** chunk-ext without whitespace, as llhttp accepts it: `;name`, `;name=token`, `;name="quoted"`. */
const chunkExtPattern = new RegExp(
  `^(?:;[${tchar}]+(?:=(?:[${tchar}]*|"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"))?)*$`,
);
const hexPattern = /^[0-9a-fA-F]+$/;
const digitsPattern = /^\d+$/;

/** SP and HTAB around a field value (OWS); a CR or any other byte stays and is then rejected. */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === " " || value[start] === "\t")) start++;
  while (end > start && (value[end - 1] === " " || value[end - 1] === "\t")) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** Whether a field name is a token (RFC 9110 §5.1). */
export function isToken(name: string): boolean {
  return tokenPattern.test(name);
}

/** Whether a field value (OWS trimmed) is free of control characters other than HTAB. */
export function isValidFieldValue(value: string): boolean {
  return !badValuePattern.test(value);
}

/**
 * One field line `name: value` (a header or trailer): the name a token, no whitespace before the
 * colon, the value without control characters other than HTAB. Undefined when malformed.
 */
export function parseFieldLine(line: string): [name: string, value: string] | undefined {
  const colon = line.indexOf(":");
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon);
  if (!tokenPattern.test(name)) return undefined;
  const value = trimOws(line.slice(colon + 1));
  if (badValuePattern.test(value)) return undefined;
  return [name, value];
}

/** Whether a reason phrase is free of control characters other than HTAB. */
export function isValidReason(reason: string): boolean {
  return !badValuePattern.test(reason);
}

/** A Content-Length value: digits only, at most 2^53 − 1; undefined otherwise. */
export function parseContentLength(value: string): number | undefined {
  if (!digitsPattern.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A chunk-size line: hex digits (at most 2^53 − 1) and optional extensions, no whitespace;
 * undefined when malformed.
 */
export function parseChunkSizeLine(line: string): number | undefined {
  const semicolon = line.indexOf(";");
  const size = semicolon === -1 ? line : line.slice(0, semicolon);
  if (!hexPattern.test(size)) return undefined;
  if (semicolon !== -1 && !chunkExtPattern.test(line.slice(semicolon))) return undefined;
  const n = Number.parseInt(size, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Whether the Transfer-Encoding field lines of a response frame its body as the proxy can: one
 * line whose value is `chunked` (any case). A coding before it (`gzip, chunked`) would reach
 * the client as if it were the content, `chunked` twice is forbidden, and a final coding other
 * than chunked leaves the length unknown (RFC 9112 §6.3).
 */
export function isChunkedOnly(values: readonly string[]): boolean {
  return values.length === 1 && values[0]!.length === 7 && values[0]!.toLowerCase() === "chunked";
}
