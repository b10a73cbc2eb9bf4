import type { DownstreamResponse } from "./downstream/downstream.ts";

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

/** Edits a response's raw [name, value, …] headers on their way down (the filters' response side). */
export interface ResponseHeadersEditor {
  editResponseHeaders(status: number, headers: string[]): void;
}

/** The JSON body and headers of a response the sidecar generates instead of the upstream. */
export function localReplyBody(reply: LocalReply, requestId: string): string {
  return JSON.stringify({ code: reply.code, message: reply.message, requestId });
}

/** Writes a generated response (when nothing has been sent yet); returns the bytes of body sent. */
export function sendLocalReply(
  res: DownstreamResponse,
  reply: LocalReply,
  requestId: string,
  closeConnection = false,
  editor?: ResponseHeadersEditor,
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
  if (editor) {
    const raw: string[] = [];
    for (const name in headers) raw.push(name, String(headers[name]));
    editor.editResponseHeaders(reply.status, raw);
    res.writeHead(reply.status, raw);
  } else res.writeHead(reply.status, headers);
  if (res.req.method === "HEAD") res.end();
  else res.end(body);
  return Buffer.byteLength(body);
}

/** A raw HTTP/1.1 error response for a socket with no parsed request (client errors, upgrades). */
export function rawLocalReply(
  reply: LocalReply,
  requestId: string,
  reason: string,
  editor?: ResponseHeadersEditor,
): string {
  const body = localReplyBody(reply, requestId);
  const headers = ["content-type", "application/json"];
  headers.push("content-length", String(Buffer.byteLength(body)), sidecarErrorHeader, reply.flag);
  editor?.editResponseHeaders(reply.status, headers);
  let head = `HTTP/1.1 ${reply.status} ${reason}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}connection: close\r\n\r\n${body}`;
}
