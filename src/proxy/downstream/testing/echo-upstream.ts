import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";

/**
 * An app on 127.0.0.1 that answers each request it receives with a 200 whose body is the exact
 * bytes it received for that request (head and body), so a test can compare what the app saw
 * behind two proxies. A response to HEAD carries them in `x-echo` instead (percent-encoded).
 * It parses just enough to find each request's end, strictly: Content-Length or chunked
 * framing, CRLF line ends; anything else is answered 400 and the connection closed (the proxy
 * must never send it such bytes). Requests on one connection are answered in order.
 */
export class EchoUpstream {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<EchoUpstream> {
    const server = createServer();
    const upstream = new EchoUpstream(server);
    server.on("connection", (socket: Socket) => upstream.#serve(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return upstream;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = requestEnd(buffered);
        if (end === undefined) return;
        if (end === "invalid") {
          socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
          socket.removeAllListeners("data");
          return;
        }
        const request = buffered.subarray(0, end);
        buffered = buffered.subarray(end);
        socket.write(echoResponse(request));
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, "close");
  }
}

function echoResponse(request: Buffer): Buffer {
  const head = request.toString("latin1", 0, request.indexOf("\r\n"));
  if (head.startsWith("HEAD ")) {
    const echo = encodeURIComponent(request.toString("latin1"));
    return Buffer.from(
      `HTTP/1.1 200 OK\r\ncontent-length: ${request.length}\r\nx-echo: ${echo}\r\n\r\n`,
      "latin1",
    );
  }
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${request.length}\r\n\r\n`, "latin1"),
    request,
  ]);
}

/**
 * Where the request at the start of `buf` ends: undefined while incomplete, "invalid" for
 * bytes a proxy should never send.
 */
export function requestEnd(buf: Buffer): number | "invalid" | undefined {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd === -1) return buf.length > 64 * 1024 ? "invalid" : undefined;
  const lines = buf.toString("latin1", 0, headEnd).split("\r\n");
  if (!/^[A-Z-]+ \S+ HTTP\/1\.1$/.test(lines[0]!)) return "invalid";
  let length: number | undefined;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match || hasControl(match[2]!)) return "invalid";
    const name = match[1]!.toLowerCase();
    if (name === "content-length") {
      if (length !== undefined || !/^\d{1,15}$/.test(match[2]!)) return "invalid";
      length = Number(match[2]);
    } else if (name === "transfer-encoding") {
      if (chunked || match[2]!.toLowerCase() !== "chunked") return "invalid";
      chunked = true;
    }
  }
  if (chunked && length !== undefined) return "invalid";
  const bodyStart = headEnd + 4;
  if (!chunked) {
    const end = bodyStart + (length ?? 0);
    return buf.length >= end ? end : undefined;
  }
  let offset = bodyStart;
  for (;;) {
    const eol = buf.indexOf("\r\n", offset);
    if (eol === -1) return undefined;
    const sizeLine = buf.toString("latin1", offset, eol);
    const size = /^([0-9a-fA-F]{1,12})(?:;.*)?$/.exec(sizeLine);
    if (!size) return "invalid";
    const n = Number.parseInt(size[1]!, 16);
    offset = eol + 2;
    if (n === 0) break;
    if (buf.length < offset + n + 2) return undefined;
    if (buf[offset + n] !== 13 || buf[offset + n + 1] !== 10) return "invalid";
    offset += n + 2;
  }
  // Trailers, then the blank line.
  for (;;) {
    const eol = buf.indexOf("\r\n", offset);
    if (eol === -1) return undefined;
    const line = buf.toString("latin1", offset, eol);
    offset = eol + 2;
    if (line === "") return offset;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(line)) return "invalid";
  }
}

/** A control character other than HTAB. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}
