import type { IncomingMessage } from "node:http";
import { isChunkedOnly } from "./field-syntax.ts";

/**
 * The checks llhttp (node:http's client parser) leaves to the proxy, so that responses read
 * through node:http are framed by the same rules as those of the raw parser: a body's
 * Transfer-Encoding must be exactly `chunked` (llhttp passes `gzip, chunked` through and reads
 * a body whose last coding is not chunked until the close), no 101 without an Upgrade request,
 * no status below 100. llhttp itself refuses Content-Length with Transfer-Encoding and
 * duplicate or malformed Content-Length.
 *
 * Returns the Content-Length to frame the response with downstream (the exact body length
 * llhttp enforces, or for HEAD and 304 the declared one), or the problem as a string.
 */
export function nodeResponseFraming(
  res: IncomingMessage,
  head: boolean,
): { contentLength: number | undefined } | string {
  const status = res.statusCode ?? 0;
  if (status < 100) return `invalid status code ${status}`;
  if (status === 101) return "101 Switching Protocols without an Upgrade request";
  const raw = res.rawHeaders;
  const codings: string[] = [];
  let length: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === "transfer-encoding") codings.push(raw[i + 1]!);
    else if (lower === "content-length") length = raw[i + 1]!;
  }
  const noBody = head || status === 204 || status === 304;
  if (!noBody && codings.length > 0 && !isChunkedOnly(codings))
    return `unsupported Transfer-Encoding "${codings.join(", ")}"`;
  if (status === 204 || length === undefined || (codings.length > 0 && !noBody))
    return { contentLength: undefined };
  return { contentLength: Number(length) };
}
