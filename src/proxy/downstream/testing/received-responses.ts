/**
 * What a client received from a proxy, read as HTTP/1.1 responses and masked for comparison:
 * what is random or time-based (Date, generated X-Request-Id and traceparent values, the
 * `requestId` of a JSON error body) is replaced by placeholders of the same length, and a
 * JSON error body is reduced to its `code` (its `message` text may differ between the two
 * request sides; its Content-Length with it).
 */

/** One response as received, masked. */
export interface ReceivedResponse {
  statusLine: string;
  /** [name, value] pairs as sent (names as written, values masked). */
  headers: [string, string][];
  body: string;
  /** A local reply's `x-sidecar-error` flag. */
  flag?: string;
  /** A local reply's JSON `code`. */
  code?: string;
  /** A local reply's JSON `message` (not compared). */
  message?: string;
  /** The body ended before its length (the connection closed or went quiet mid-body). */
  truncated?: boolean;
}

export interface ReceivedStream {
  responses: ReceivedResponse[];
  /** Bytes after the last response that do not read as one. */
  rest: string;
}

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;
const traceparent = /00-[0-9a-f]{32}-[0-9a-f]{16}-01/g;

/** Replaces generated ids (UUID v4) and traceparents with same-length placeholders. */
export function maskIds(text: string): string {
  return text
    .replace(uuid, (m) => "U".repeat(m.length))
    .replace(traceparent, (m) => "T".repeat(m.length));
}

const statusPattern = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;

/**
 * Reads `received` as consecutive responses. A response's body is its Content-Length, or its
 * chunks, or nothing (1xx, 204, 304, and a response to HEAD: a Content-Length body whose bytes
 * start with the next status line instead, or that ends the stream). A body without either
 * runs to the end of the stream.
 */
export function readResponses(received: string): ReceivedStream {
  const text = maskIds(received);
  const responses: ReceivedResponse[] = [];
  let offset = 0;
  while (offset < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", offset);
    if (headEnd === -1) break;
    const [statusLine, ...lines] = text.slice(offset, headEnd).split("\r\n");
    const status = statusPattern.exec(statusLine!);
    if (!status) break;
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      return [name, name.toLowerCase() === "date" ? "D".repeat(value.length) : value];
    });
    const get = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1];
    const code = Number(status[1]);
    let bodyStart = headEnd + 4;
    const response: ReceivedResponse = { statusLine: statusLine!, headers, body: "" };
    responses.push(response);
    const length = get("content-length");
    if (code < 200 || code === 204 || code === 304) {
      offset = bodyStart;
    } else if (get("transfer-encoding")?.toLowerCase() === "chunked") {
      const chunked = readChunked(text, bodyStart);
      response.body = chunked.data;
      if (chunked.end === undefined) response.truncated = true;
      offset = chunked.end ?? text.length;
    } else if (length !== undefined) {
      const n = Number(length);
      // A response to HEAD: no body follows its Content-Length.
      const bodiless = bodyStart === text.length || text.startsWith("HTTP/1.", bodyStart);
      if (!bodiless) {
        response.body = text.slice(bodyStart, bodyStart + n);
        if (response.body.length < n) response.truncated = true;
        bodyStart += response.body.length;
      }
      offset = bodyStart;
    } else {
      response.body = text.slice(bodyStart);
      offset = text.length;
    }
    const flag = get("x-sidecar-error");
    if (flag !== undefined) reduceLocalReply(response, flag);
    else rechunkEcho(response);
  }
  return { responses, rest: text.slice(offset) };
}

/**
 * An echoed request with a chunked body: its chunks as one (and the echo's Content-Length
 * masked). The proxy re-frames a chunked body as its pieces arrive, so chunk boundaries
 * depend on how the client's bytes were read, not on the request side.
 */
function rechunkEcho(response: ReceivedResponse): void {
  const headEnd = response.body.indexOf("\r\n\r\n");
  if (
    headEnd === -1 ||
    !/\r\ntransfer-encoding: chunked\r\n/i.test(response.body.slice(0, headEnd + 2))
  )
    return;
  const from = headEnd + 4;
  const chunked = readChunked(response.body, from);
  if (chunked.end === undefined) return;
  const size = chunked.data.length;
  const chunk = size > 0 ? `${size.toString(16)}\r\n${chunked.data}\r\n` : "";
  const tail = response.body.slice(chunked.trailersAt, chunked.end);
  response.body = `${response.body.slice(0, from)}${chunk}0\r\n${tail}${response.body.slice(chunked.end)}`;
  for (const header of response.headers)
    if (header[0].toLowerCase() === "content-length") header[1] = "L";
}

/** A local reply's JSON body: its code kept, its message set aside, its length masked. */
function reduceLocalReply(response: ReceivedResponse, flag: string): void {
  response.flag = flag;
  if (response.body === "") return;
  try {
    const body = JSON.parse(response.body) as { code?: string; message?: string };
    response.code = body.code;
    response.message = body.message;
    response.body = JSON.stringify({ ...body, message: "M" });
    for (const header of response.headers)
      if (header[0].toLowerCase() === "content-length") header[1] = "L";
  } catch {
    // Not JSON: compared as it is.
  }
}

/**
 * A chunked body starting at `from`: its data, and where it ends (after its trailers, which
 * are dropped); `end` undefined when it does not end in `text`.
 */
function readChunked(
  text: string,
  from: number,
): { data: string; end?: number; trailersAt?: number } {
  let offset = from;
  let data = "";
  for (;;) {
    const eol = text.indexOf("\r\n", offset);
    if (eol === -1) return { data };
    const size = Number.parseInt(text.slice(offset, eol), 16);
    if (Number.isNaN(size)) return { data };
    offset = eol + 2;
    if (size === 0) break;
    data += text.slice(offset, offset + size);
    offset += size + 2;
    if (offset > text.length) return { data };
  }
  const trailersAt = offset;
  for (;;) {
    const eol = text.indexOf("\r\n", offset);
    if (eol === -1) return { data };
    const blank = eol === offset;
    offset = eol + 2;
    if (blank) return { data, end: offset, trailersAt };
  }
}
