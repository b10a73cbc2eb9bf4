import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { chance, pick, type Rand } from "../../transport/testing/generated-messages.ts";
import type { DownstreamRequest } from "../downstream.ts";
import { NetResponse } from "../net-response.ts";

/**
 * Generated response scripts (what a handler calls on a response) and two servers that perform
 * them: node:http's, and a net.Server whose connection handler makes a NetResponse. A raw client
 * sends the same request to both; the bytes (Date value masked) and whether the server closed
 * the connection must be the same.
 */
export interface ResponseScript {
  method: "GET" | "HEAD";
  http10: boolean;
  /** The request's Connection field, if any. */
  requestConnection: "close" | "keep-alive" | undefined;
  status: number;
  message: string | undefined;
  /** Undefined: no writeHead, statusCode set and the head is implicit. */
  headers: [string, string | number | string[]][] | undefined;
  headersAsArray: boolean;
  shouldKeepAliveFalse: boolean;
  /** Sent before the head. */
  informational: "continue" | "early-hints" | undefined;
  trailers: [string, string][] | undefined;
  writes: Chunk[];
  end: Chunk | undefined;
}

/** A chunk as a handler passes it: a Buffer, a string, or a string with its encoding. */
export type Chunk = string | Buffer | { text: string; encoding: BufferEncoding };

const statuses = [200, 201, 204, 206, 304, 404, 500, 503];
const names = ["X-One", "x-two", "Cache-Control", "ETag", "Vary", "Set-Cookie", "cookie"];
const values = ["a", "b c", "no-cache", '"v1"', "é-latin1", "", "1"];

/** Every encoding node accepts for a response string chunk, in the spellings it accepts. */
const encodings: readonly BufferEncoding[] = [
  "latin1",
  "binary",
  "hex",
  "base64",
  "base64url",
  "utf8",
  "utf-8",
  "ascii",
  "ucs2",
  "ucs-2",
  "utf16le",
  "utf-16le",
];

/** Text on which `encoding` gives other bytes than utf8 would (or a size other than the text's). */
function encodedText(rand: Rand, encoding: BufferEncoding): string {
  const bytes = Buffer.from(
    Array.from({ length: pick(rand, [0, 1, 2, 3, 4, 5, 64, 3000]) }, () =>
      Math.floor(rand() * 256),
    ),
  );
  switch (encoding) {
    case "hex": {
      const hex = bytes.toString("hex");
      // Odd length (the last digit is dropped), upper case, or a bad digit (decoding stops there).
      return pick(rand, [hex, `${hex}a`, hex.toUpperCase(), `${hex.slice(0, 4)}zz${hex}`]);
    }
    case "base64":
    case "base64url": {
      const text = bytes.toString(encoding);
      // With and without padding, the other alphabet, white space, and a dangling character.
      return pick(rand, [
        text,
        bytes.toString("base64"),
        bytes.toString("base64url"),
        text.replace(/=+$/, ""),
        `${text.slice(0, 8)}\r\n ${text.slice(8)}`,
        `${text}A`,
      ]);
    }
    default:
      // Non-ASCII below and above U+00FF, multi-byte utf-8, a surrogate pair, a lone surrogate.
      return pick(rand, [
        "plain ascii\r\n",
        "café ü ÿ",
        "€ uses 3 bytes, ✓ too",
        "emoji 😀 here",
        "lone \ud800 surrogate",
        `${"é€😀".repeat(1 + Math.floor(rand() * 2000))}`,
      ]);
  }
}

function body(rand: Rand): Chunk {
  if (chance(rand, 0.35)) {
    const encoding = pick(rand, encodings);
    return { text: encodedText(rand, encoding), encoding };
  }
  const size = pick(rand, [0, 1, 5, 100, 1000, 5000, 20_000]);
  const text = "abcdefghij\r\n0123456789".repeat(Math.ceil(size / 22)).slice(0, size);
  if (chance(rand, 0.5)) return Buffer.from(text, "latin1");
  return chance(rand, 0.2) ? `${text}ü` : text;
}

const byteLength = (data: Chunk) =>
  typeof data === "string"
    ? Buffer.byteLength(data)
    : Buffer.isBuffer(data)
      ? data.length
      : Buffer.byteLength(data.text, data.encoding);

/** A length taken as if every string were utf8: wrong for other encodings, as handlers do. */
const utf8Length = (data: Chunk) =>
  typeof data === "string" || Buffer.isBuffer(data)
    ? byteLength(data)
    : Buffer.byteLength(data.text);

export function generateScript(rand: Rand): ResponseScript {
  const writes: Chunk[] = [];
  const count = Math.floor(rand() * 4);
  for (let i = 0; i < count; i++) writes.push(body(rand));
  const end = chance(rand, 0.5) ? body(rand) : undefined;
  const implicit = chance(rand, 0.15);
  let headers: ResponseScript["headers"];
  if (!implicit) {
    headers = [];
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const name = pick(rand, names);
      if (headers.some(([other]) => other.toLowerCase() === name.toLowerCase())) continue;
      headers.push([
        name,
        chance(rand, 0.2) ? [pick(rand, values), pick(rand, values)] : pick(rand, values),
      ]);
    }
    const framing = pick(rand, ["none", "none", "length", "chunked"]);
    if (framing === "length") {
      const length = chance(rand, 0.2) ? utf8Length : byteLength;
      headers.push([
        pick(rand, ["Content-Length", "content-length"]),
        [...writes, ...(end ? [end] : [])].reduce((sum, d) => sum + length(d), 0),
      ]);
    } else if (framing === "chunked")
      headers.push([pick(rand, ["Transfer-Encoding", "transfer-encoding"]), "chunked"]);
    if (chance(rand, 0.15))
      headers.push([pick(rand, ["Connection", "connection"]), pick(rand, ["close", "keep-alive"])]);
  }
  return {
    method: chance(rand, 0.2) ? "HEAD" : "GET",
    http10: chance(rand, 0.25),
    requestConnection: pick(rand, [undefined, undefined, "close", "keep-alive"] as const),
    status: pick(rand, statuses),
    message: chance(rand, 0.1) ? pick(rand, ["Custom Reason", "Réason", ""]) : undefined,
    headers,
    headersAsArray: chance(rand, 0.5),
    shouldKeepAliveFalse: chance(rand, 0.1),
    informational: pick(rand, [
      undefined,
      undefined,
      undefined,
      "continue",
      "early-hints",
    ] as const),
    trailers: chance(rand, 0.2) ? [["X-Checksum", "abc"]] : undefined,
    writes,
    end,
  };
}

export function requestBytes(script: ResponseScript, id: number): string {
  let text = `${script.method} /case/${id} HTTP/1.${script.http10 ? 0 : 1}\r\nHost: localhost\r\n`;
  if (script.requestConnection) text += `Connection: ${script.requestConnection}\r\n`;
  return `${text}\r\n`;
}

/** What DownstreamResponse offers, for the script to run the same on either response. */
type Response = http.ServerResponse | NetResponse;

export function perform(script: ResponseScript, res: Response): void {
  if (script.shouldKeepAliveFalse) res.shouldKeepAlive = false;
  if (script.informational === "continue") res.writeContinue();
  else if (script.informational === "early-hints")
    res.writeEarlyHints({
      link: ["</style.css>; rel=preload; as=style", "</app.js>; rel=preload; as=script"],
      "x-hint": "1",
    });
  if (script.headers) {
    const headers = script.headersAsArray
      ? script.headers.flatMap(([name, value]) =>
          Array.isArray(value) ? value.flatMap((v) => [name, v]) : [name, String(value)],
        )
      : Object.fromEntries(script.headers);
    if (script.message !== undefined) res.writeHead(script.status, script.message, headers);
    else res.writeHead(script.status, headers);
  } else res.statusCode = script.status;
  for (const data of script.writes) {
    if (typeof data === "string" || Buffer.isBuffer(data)) res.write(data);
    else res.write(data.text, data.encoding);
  }
  if (script.trailers) res.addTrailers(script.trailers);
  if (script.end === undefined) res.end();
  else if (typeof script.end === "string" || Buffer.isBuffer(script.end)) res.end(script.end);
  else res.end(script.end.text, script.end.encoding);
}

/** Records, a turn after the response finished, whether the server is closing the connection. */
type Outcome = { closed: boolean };

export interface ScriptServer {
  port: number;
  /** The server side's verdict for case `id`, once its response finished. */
  outcome(id: number): Promise<Outcome>;
  close(): Promise<void>;
}

class Outcomes {
  #waiting = new Map<number, (outcome: Outcome) => void>();
  #done = new Map<number, Outcome>();
  settle(id: number, outcome: Outcome): void {
    const resolve = this.#waiting.get(id);
    if (resolve) resolve(outcome);
    else this.#done.set(id, outcome);
  }
  get(id: number): Promise<Outcome> {
    const done = this.#done.get(id);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }
}

const caseId = (url: string | undefined) => Number(/^\/case\/(\d+)$/.exec(url ?? "")?.[1]);

export async function nodeHttpServer(
  scripts: Map<number, ResponseScript>,
  keepAliveTimeout: number,
): Promise<ScriptServer> {
  const outcomes = new Outcomes();
  const server = http.createServer(
    { joinDuplicateHeaders: false, keepAliveTimeout },
    (req, res) => {
      const id = caseId(req.url);
      res.on("finish", () =>
        setImmediate(() => {
          // node:http ends the connection in its own `finish` listener when the response was last.
          outcomes.settle(id, { closed: req.socket.writableEnded || req.socket.destroyed });
          req.socket.end();
        }),
      );
      perform(scripts.get(id)!, res);
    },
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    outcome: (id) => outcomes.get(id),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** A minimal connection driver: one request head per connection, then a NetResponse. */
export async function netResponseServer(
  scripts: Map<number, ResponseScript>,
  keepAliveTimeoutMs: number,
): Promise<ScriptServer> {
  const outcomes = new Outcomes();
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let text = "";
    const onData = (data: Buffer) => {
      text += data.toString("latin1");
      const at = text.indexOf("\r\n\r\n");
      if (at < 0) return;
      socket.off("data", onData);
      const [requestLine, ...fields] = text.slice(0, at).split("\r\n");
      const [method, url, version] = requestLine!.split(" ");
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(":");
        headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
      }
      const http10 = version === "HTTP/1.0";
      const connection = headers.connection?.toLowerCase();
      const keepAlive = http10 ? connection === "keep-alive" : connection !== "close";
      const id = caseId(url);
      const req = {
        method,
        url,
        httpVersion: http10 ? "1.0" : "1.1",
        headers,
        rawHeaders: [],
        rawTrailers: [],
        socket,
      } as unknown as DownstreamRequest;
      const res = new NetResponse(socket, req, {
        keepAlive,
        http10,
        keepAliveTimeoutMs,
        onFinished: (stayOpen) => {
          if (!stayOpen) socket.end();
          setImmediate(() => {
            outcomes.settle(id, { closed: socket.writableEnded || socket.destroyed });
            socket.end();
          });
        },
      });
      socket.on("close", () => res.socketClosed());
      perform(scripts.get(id)!, res);
    };
    socket.on("data", onData);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    outcome: (id) => outcomes.get(id),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** Sends `request` and collects everything the server sends until it ends the connection. */
export async function exchange(port: number, request: string): Promise<Buffer> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (data: Buffer) => chunks.push(data));
  socket.write(request, "latin1");
  try {
    await once(socket, "end");
  } finally {
    socket.destroy();
  }
  return Buffer.concat(chunks);
}

export const maskDate = (bytes: Buffer) =>
  bytes.toString("latin1").replace(/\r\nDate: [^\r\n]*\r\n/, "\r\nDate: <masked>\r\n");
