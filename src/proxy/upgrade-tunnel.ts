import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { http, https } from "../runtime/builtins.ts";
import type { Cluster } from "./cluster/cluster.ts";
import { ProxyErrorCodes } from "./error-codes.ts";
import { downstreamResponseHeaders, withContentLength } from "./hop-headers.ts";
import { type ResponseHeadersEditor, rawLocalReply } from "./local-reply.ts";
import { nodeResponseFraming } from "./transport/node-response-framing.ts";
import { classifyError, replyFor } from "./upstream-errors.ts";

export interface TunnelOptions {
  socket: Duplex;
  head: Buffer;
  method: string;
  path: string;
  headers: string[];
  cluster: Cluster;
  requestId: string;
  idleMs: number;
  /** The filters' edits to the response head (the 101, a declined upgrade's, a generated one). */
  responseHeaders?: ResponseHeadersEditor | undefined;
}

function rawHead(status: number, message: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/**
 * Sends an Upgrade request (WebSocket, h2c, …) upstream; on 101 the two sockets are joined
 * both ways until either side closes or stays idle past `idleMs`; any other answer is relayed
 * and the connection closed.
 */
/**
 * Ends an Upgrade's socket with `answer` (a refusal) and closes it. node:http no longer reads
 * that socket, so what the client still sends is read and dropped until it closes its side
 * (closing with unread bytes would reset the connection, which can lose the answer), for at
 * most `idleMs`.
 */
export function answerAndClose(socket: Duplex, answer: string, idleMs: number): void {
  socket.end(answer);
  dropUntilClosed(socket, idleMs);
}

function dropUntilClosed(socket: Duplex, idleMs: number): void {
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), idleMs).unref();
  socket.once("close", () => clearTimeout(timer));
}

export function tunnelUpgrade({
  socket,
  head,
  method,
  path,
  headers,
  cluster,
  requestId,
  idleMs,
  responseHeaders,
}: TunnelOptions): void {
  const endpoint = cluster.pick();
  if (!endpoint) {
    answerAndClose(
      socket,
      rawLocalReply(
        {
          status: 503,
          code: ProxyErrorCodes.NO_HEALTHY_UPSTREAM,
          flag: "UH",
          message: `No healthy endpoint in cluster "${cluster.name}"`,
        },
        requestId,
        "Service Unavailable",
        responseHeaders,
      ),
      idleMs,
    );
    return;
  }
  socket.on("error", () => socket.destroy());
  const upReq = (endpoint.tls ? https : http).request({
    ...endpoint.tls,
    host: endpoint.host,
    port: endpoint.port,
    method,
    path,
    headers,
    agent: false,
  });
  const connectTimer = setTimeout(
    () => upReq.destroy(Object.assign(new Error("connect timeout"), { code: "CONNECT_TIMEOUT" })),
    cluster.config.connectTimeoutSeconds * 1000,
  );
  upReq.once("socket", (s: Socket) =>
    s.once(endpoint.tls ? "secureConnect" : "connect", () => clearTimeout(connectTimer)),
  );
  socket.once("close", () => upReq.destroy());
  upReq.once("upgrade", (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    clearTimeout(connectTimer);
    cluster.reportSuccess(endpoint);
    const headers = downstreamResponseHeaders(upRes.rawHeaders, true);
    responseHeaders?.editResponseHeaders(101, headers);
    socket.write(
      rawHead(101, upRes.statusMessage || "Switching Protocols", [
        ...headers,
        "connection",
        "upgrade",
      ]),
    );
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    const close = () => {
      socket.destroy();
      upSocket.destroy();
    };
    upSocket.on("error", close);
    socket.on("error", close);
    upSocket.once("close", close);
    socket.once("close", close);
    upSocket.setTimeout(idleMs, close);
    upSocket.pipe(socket);
    socket.pipe(upSocket);
  });
  let answered = false;
  upReq.once("response", (upRes: IncomingMessage) => {
    clearTimeout(connectTimer);
    answered = true;
    // The upstream declined the upgrade: relay its answer, framed by the proxy, and close.
    const framing = nodeResponseFraming(upRes, method === "HEAD");
    if (typeof framing === "string") {
      upRes.destroy();
      upReq.destroy();
      cluster.reportFailure(endpoint);
      const reply = replyFor("protocol", cluster.name, framing);
      if (socket.writable)
        answerAndClose(
          socket,
          rawLocalReply(reply, requestId, "Bad Gateway", responseHeaders),
          idleMs,
        );
      else socket.destroy();
      return;
    }
    const status = upRes.statusCode!;
    const headers = withContentLength(
      downstreamResponseHeaders(upRes.rawHeaders),
      status,
      framing.contentLength,
    );
    responseHeaders?.editResponseHeaders(status, headers);
    socket.write(rawHead(status, upRes.statusMessage ?? "", [...headers, "connection", "close"]));
    // Without a Content-Length the body is delimited by the close (HTTP/1.1 allows it for responses).
    upRes.pipe(socket);
    dropUntilClosed(socket, idleMs);
  });
  upReq.on("error", (error: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    // After the answer's head went down, a second response cannot follow: cut the client off.
    if (answered) return void socket.destroy();
    answered = true;
    cluster.reportFailure(endpoint);
    const failure = classifyError(error);
    const reply = replyFor(failure, cluster.name, error.code ?? error.message);
    if (socket.writable)
      answerAndClose(
        socket,
        rawLocalReply(reply, requestId, "Bad Gateway", responseHeaders),
        idleMs,
      );
    else socket.destroy();
  });
  upReq.end();
}
