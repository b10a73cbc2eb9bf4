import { once } from "node:events";
import { request } from "node:http";
import { createServer, type Server } from "node:net";
import { ResponseParser } from "../response-parser.ts";
import type { ResponseCase } from "./response-cases.ts";

/** What a parser made of one response: accepted (complete) or not, and what it saw. */
export interface ParseOutcome {
  accepted: boolean;
  /** Statuses of the interim (1xx) responses. */
  info: number[];
  status?: number;
  headers?: string[];
  /** Body bytes as latin1. */
  body: string;
  trailers?: string[];
  /** Ours only: whether the connection would be reused. */
  keepAlive?: boolean;
  error?: string;
}

/**
 * Runs ResponseParser on a case, fed in up to three pieces split where `rand` says, then the
 * connection's end (the oracle's server closes after sending, too).
 */
export function parseWithOurs(c: ResponseCase, rand: () => number): ParseOutcome {
  const out: ParseOutcome = { accepted: false, info: [], body: "" };
  const parser = new ResponseParser({
    onInfo: (status) => out.info.push(status),
    onHead(status, _message, headers) {
      Object.assign(out, { status, headers });
    },
    onBody(chunk) {
      out.body += chunk.toString("latin1");
    },
    onEnd(trailers, keepAlive) {
      Object.assign(out, { accepted: true, trailers, keepAlive });
    },
    onError(message) {
      out.error = message;
    },
  });
  parser.start(c.method === "HEAD");
  const cuts = [Math.floor(rand() * c.bytes.length), Math.floor(rand() * c.bytes.length)].sort(
    (a, b) => a - b,
  );
  parser.feed(c.bytes.subarray(0, cuts[0]));
  parser.feed(c.bytes.subarray(cuts[0], cuts[1]));
  parser.feed(c.bytes.subarray(cuts[1]));
  parser.eof();
  return out;
}

/**
 * llhttp as node:http's client runs it (strict, the defaults): a loopback server sends each
 * case's bytes and closes; a request() per case records what node:http reports.
 */
export class LlhttpOracle {
  readonly #server: Server;
  /** The bytes to send, by the id in the request path. */
  readonly #cases: Map<number, Buffer>;
  #next = 0;

  private constructor(server: Server, cases: Map<number, Buffer>) {
    this.#server = server;
    this.#cases = cases;
  }

  static async start(): Promise<LlhttpOracle> {
    const cases = new Map<number, Buffer>();
    const server = createServer((socket) => {
      let head = "";
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => {
        if (head.endsWith("\r\n\r\n")) return;
        head += chunk.toString("latin1");
        if (!head.endsWith("\r\n\r\n")) return;
        const id = Number(head.split(" ", 2)[1]!.slice(1));
        socket.end(cases.get(id) ?? "");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return new LlhttpOracle(server, cases);
  }

  parse(c: ResponseCase): Promise<ParseOutcome> {
    const id = this.#next++;
    const cases = this.#cases;
    cases.set(id, c.bytes);
    const port = (this.#server.address() as { port: number }).port;
    return new Promise((resolve) => {
      const out: ParseOutcome = { accepted: false, info: [], body: "" };
      let complete = false;
      const finish = () => {
        cases.delete(id);
        out.accepted = complete;
        resolve(out);
      };
      const req = request({
        host: "127.0.0.1",
        port,
        method: c.method,
        path: `/${id}`,
        agent: false,
      });
      req.on("information", (info: { statusCode: number }) => out.info.push(info.statusCode));
      req.on("response", (res) => {
        Object.assign(out, { status: res.statusCode, headers: res.rawHeaders });
        res.on("data", (chunk: Buffer) => {
          out.body += chunk.toString("latin1");
        });
        res.on("end", () => {
          complete = res.complete;
          out.trailers = res.rawTrailers;
        });
        res.on("error", () => {});
        res.on("close", () => {
          complete ||= res.complete;
          out.trailers ??= res.rawTrailers;
        });
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        out.error ??= error.code ?? error.message;
      });
      // 'close' comes after the response's events; one more turn lets a pending 'end' run.
      req.on("close", () => setImmediate(finish));
      req.end();
    });
  }

  close(): void {
    this.#server.close();
  }
}
