import type { ServerResponse } from "node:http";

/** The header that marks a response the sidecar generated; its value is the response flag. */
export const sidecarErrorHeader = "x-sidecar-error";

export interface LocalReply {
  status: number;
  code: string;
  message: string;
  /** Envoy response flag, e.g. UF, UT, UO, RL. */
  flag: string;
  retryAfterSeconds?: number;
}

/** The JSON body and headers of a response the sidecar generates instead of the upstream. */
export function localReplyBody(reply: LocalReply, requestId: string): string {
  return JSON.stringify({ code: reply.code, message: reply.message, requestId });
}

/** Writes a generated response (when nothing has been sent yet); returns the bytes of body sent. */
export function sendLocalReply(
  res: ServerResponse,
  reply: LocalReply,
  requestId: string,
  closeConnection = false,
): number {
  if (res.writableEnded) return 0;
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const body = localReplyBody(reply, requestId);
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    [sidecarErrorHeader]: reply.flag,
    "x-request-id": requestId,
  };
  if (reply.retryAfterSeconds !== undefined)
    headers["retry-after"] = Math.max(1, Math.ceil(reply.retryAfterSeconds));
  if (closeConnection) headers.connection = "close";
  res.writeHead(reply.status, headers);
  res.end(res.req.method === "HEAD" ? undefined : body);
  return Buffer.byteLength(body);
}

/** A raw HTTP/1.1 error response for a socket with no parsed request (client errors, upgrades). */
export function rawLocalReply(reply: LocalReply, requestId: string, reason: string): string {
  const body = localReplyBody(reply, requestId);
  return (
    `HTTP/1.1 ${reply.status} ${reason}\r\n` +
    "content-type: application/json\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `${sidecarErrorHeader}: ${reply.flag}\r\n` +
    "connection: close\r\n\r\n" +
    body
  );
}
