/**
 * Test support for the proxy: raw-socket clients and upstreams on 127.0.0.1 and a proxy role
 * built from a config fragment. Not used by the program itself.
 */
import { once } from "node:events";
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { RoleMemory } from "../runtime/role-definition.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import { freePort } from "../runtime/testing.ts";
import type { FilterComponent } from "./filters/filter.ts";
import { filterComponents } from "./filters/registry.ts";
import { type ProxyConfig, type ProxyConfigInput, proxyConfigSchema } from "./proxy-config.ts";
import { createProxyRole, type ProxyRole } from "./proxy-role.ts";

export interface RawResponse {
  status: number;
  reason: string;
  /** [name, value] pairs as received, names lower-cased. */
  headers: [string, string][];
  body: Buffer;
  trailers: [string, string][];
  /** The bytes of the head (status line + headers). */
  head: string;
}

export function header(res: RawResponse, name: string): string | undefined {
  return res.headers.find(([n]) => n === name)?.[1];
}

/**
 * Parses one HTTP/1.1 response at the start of `buf`; undefined when incomplete.
 * `noBody` for responses to HEAD. `closed` makes a close-delimited body complete.
 */
export function parseResponse(
  buf: Buffer,
  { noBody = false, closed = false } = {},
): { response: RawResponse; rest: Buffer } | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const head = buf.subarray(0, end).toString("latin1");
  const [statusLine, ...lines] = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine!);
  if (!m) throw new Error(`bad status line: ${statusLine}`);
  const status = Number(m[1]);
  const headers = lines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string];
  });
  const get = (name: string) => headers.find(([n]) => n === name)?.[1];
  let offset = end + 4;
  const base = { status, reason: m[2]!, headers, head };
  if (noBody || status < 200 || status === 204 || status === 304)
    return {
      response: { ...base, body: Buffer.alloc(0), trailers: [] },
      rest: buf.subarray(offset),
    };
  if (get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", offset);
      if (lineEnd === -1) return undefined;
      const size = Number.parseInt(buf.subarray(offset, lineEnd).toString("latin1"), 16);
      offset = lineEnd + 2;
      if (size === 0) {
        const trailers: [string, string][] = [];
        for (;;) {
          const tEnd = buf.indexOf("\r\n", offset);
          if (tEnd === -1) return undefined;
          const line = buf.subarray(offset, tEnd).toString("latin1");
          offset = tEnd + 2;
          if (line === "") break;
          const colon = line.indexOf(":");
          trailers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
        }
        return {
          response: { ...base, body: Buffer.concat(parts), trailers },
          rest: buf.subarray(offset),
        };
      }
      if (buf.length < offset + size + 2) return undefined;
      parts.push(buf.subarray(offset, offset + size));
      offset += size + 2;
    }
  }
  const length = get("content-length");
  if (length !== undefined) {
    const n = Number(length);
    if (buf.length < offset + n) return undefined;
    return {
      response: { ...base, body: buf.subarray(offset, offset + n), trailers: [] },
      rest: buf.subarray(offset + n),
    };
  }
  if (!closed) return undefined;
  return { response: { ...base, body: buf.subarray(offset), trailers: [] }, rest: Buffer.alloc(0) };
}

/** A raw client connection that reads responses one at a time. */
export class RawClient {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on("error", () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    return new RawClient(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for the next full response (rejects after `timeoutMs` or when closed without one). */
  async read({ noBody = false, timeoutMs = 10_000 } = {}): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.#buf, { noBody, closed: this.#closed });
      if (parsed) {
        this.#buf = Buffer.from(parsed.rest);
        return parsed.response;
      }
      if (this.#closed)
        throw new Error(`connection closed; got ${JSON.stringify(this.#buf.toString("latin1"))}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out; got ${JSON.stringify(this.#buf.toString("latin1"))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Bytes received and not yet parsed. */
  pending(): Buffer {
    return this.#buf;
  }

  /** Waits until the server closes the connection (rejects after `timeoutMs`). */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.#closed) return;
    await Promise.race([
      once(this.socket, "close"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("not closed")), timeoutMs)),
    ]);
  }

  async waitFor(pattern: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#buf.toString("latin1").includes(pattern)) {
      if (this.#closed || Date.now() > deadline)
        throw new Error(`no ${pattern}; got ${JSON.stringify(this.#buf.toString("latin1"))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.#buf.toString("latin1");
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends `request` on a new connection and reads one response. */
export async function rawRequest(
  port: number,
  request: string | Buffer,
  noBody = false,
): Promise<RawResponse> {
  const client = await RawClient.connect(port);
  try {
    client.write(request);
    return await client.read({ noBody });
  } finally {
    client.close();
  }
}

export interface Upstream {
  port: number;
  close(): Promise<void>;
}

/** A node:http upstream on 127.0.0.1. */
export async function httpUpstream(
  handler: RequestListener,
): Promise<Upstream & { server: Server }> {
  const server = createHttpServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * A raw TCP upstream: `onData` gets each socket and the request bytes as they come, and answers
 * (or misbehaves) as it likes. `requests` holds the bytes received on each connection that sent any.
 */
export async function rawUpstream(
  onData: (socket: Socket, received: Buffer) => void,
): Promise<Upstream & { requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let received = Buffer.alloc(0);
    let index = -1;
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (index === -1) index = requests.push(received) - 1;
      else requests[index] = received;
      onData(socket, received);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    requests,
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A port on 127.0.0.1 that refuses connections (bound, then closed). */
export const refusedPort = freePort;

export interface TestProxy {
  role: ProxyRole;
  port: number;
  registry: Registry;
  /** Ports of every listener, in order. */
  ports: number[];
  stop(): Promise<void>;
}

export interface StartProxyOptions {
  /** Filter types besides the built-in ones. */
  filterTypes?: readonly FilterComponent[];
  /** Changes the parsed config before the role is made (e.g. adds entries of `filterTypes`). */
  edit?: (config: ProxyConfig) => void;
  logger?: Logger;
  /** Buffer caps and the memory-pressure signal (default: none). */
  memory?: RoleMemory;
  /** Where plain listeners parse requests (default: node:net). */
  requestSide?: "net" | "node";
}

/**
 * Starts a proxy role on 127.0.0.1:0 from a config fragment; with `upstreamPort` only, one
 * listener routes everything to cluster "app" at that port.
 */
export async function startProxy(
  config: Partial<ProxyConfigInput> & { upstreamPort?: number },
  {
    filterTypes,
    edit,
    logger = pino({ level: "silent" }) as Logger,
    memory,
    requestSide,
  }: StartProxyOptions = {},
): Promise<TestProxy> {
  const { upstreamPort, ...rest } = config;
  const input: ProxyConfigInput = {
    listeners: [{ address: "127.0.0.1:0", routes: [{ cluster: "app" }] }],
    clusters: { app: { endpoints: [`127.0.0.1:${upstreamPort ?? 1}`] } },
    accessLog: { enabled: false },
    ...rest,
  };
  const parsed = proxyConfigSchema.parse(input);
  edit?.(parsed);
  const registry = new Registry();
  const role = createProxyRole(parsed, {
    logger,
    registry,
    filterTypes: [...filterComponents, ...(filterTypes ?? [])],
    memory,
    requestSide,
  });
  await role.start();
  const ports = role.listeners.map((l) => l.address!.port);
  return {
    role,
    registry,
    port: ports[0]!,
    ports,
    stop: () => role.stop(AbortSignal.timeout(5_000)),
  };
}
