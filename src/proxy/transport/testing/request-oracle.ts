import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";

/** One request as a parser saw it. */
export interface ParsedRequest {
  method: string;
  url: string;
  /** "1.0" or "1.1". */
  httpVersion: string;
  rawHeaders: string[];
  /** `req.headers`: node:http's, or ours built by incomingHeaders (downstream/). */
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes as latin1. */
  body: string;
  rawTrailers: string[];
  /** An upgrade or CONNECT head: nothing after it is parsed as HTTP. */
  upgrade: boolean;
  /** The request ended (an upgrade head is complete as it is). */
  complete?: boolean;
}

/** What a parser made of one connection's bytes. */
export interface RequestOutcome {
  requests: ParsedRequest[];
  /** The refusal's code, when the bytes were refused (llhttp's HPE_* or ours). */
  error?: string;
  /** Ours only: the status the proxy would answer the refusal with. */
  status?: number;
}

/**
 * llhttp as the proxy's listener runs it: a loopback node:http server created with the options
 * `src/proxy/listener.ts` gives its server (joinDuplicateHeaders: false, maxHeaderSize), fed
 * each case's bytes over its own connection. Records every request it parsed, in order, or the
 * clientError code that ended the connection.
 *
 * `requireHostHeader` is applied here, as node:http applies it (an HTTP/1.1 request whose
 * headers have no host is answered 400 and not emitted), because node:http's own answer is
 * invisible to a listener and, queued behind an earlier response, may never be written.
 */
export class RequestOracle {
  readonly #server: Server;
  /** Outcomes by the client connection's local port. */
  readonly #outcomes = new Map<number, RequestOutcome>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(maxHeaderSize: number): Promise<RequestOracle> {
    const server = createServer({
      maxHeaderSize,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      requestTimeout: 0,
      headersTimeout: 60_000,
    });
    const oracle = new RequestOracle(server);
    const outcome = (socket: object) =>
      oracle.#outcomes.get((socket as { remotePort: number }).remotePort);
    const record = (req: IncomingMessage, upgrade: boolean): ParsedRequest => {
      const parsed: ParsedRequest = {
        method: req.method!,
        url: req.url!,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        headers: { ...req.headers },
        body: "",
        rawTrailers: [],
        upgrade,
        complete: upgrade,
      };
      const out = outcome(req.socket);
      if (out && !out.error) out.requests.push(parsed);
      return parsed;
    };
    const onRequest = (req: IncomingMessage, res: import("node:http").ServerResponse) => {
      const out = outcome(req.socket);
      if (!out?.error && req.httpVersion === "1.1" && req.headers.host === undefined) {
        if (out) out.error = "MISSING_HOST";
        res.writeHead(400, ["Connection", "close"]);
      }
      if (out?.error) {
        req.resume();
        res.end();
        return;
      }
      const parsed = record(req, false);
      req.on("data", (chunk: Buffer) => {
        parsed.body += chunk.toString("latin1");
      });
      req.on("end", () => {
        parsed.rawTrailers = req.rawTrailers;
        parsed.complete = true;
        res.end();
      });
      req.on("error", () => {});
    };
    server.on("request", onRequest);
    // As the proxy: a 100 Continue (unanswered, node:http would close after the response).
    server.on("checkContinue", (req: IncomingMessage, res: import("node:http").ServerResponse) => {
      if (req.headers.host !== undefined) res.writeContinue();
      onRequest(req, res);
    });
    server.on("checkExpectation", onRequest);
    const onUpgrade = (req: IncomingMessage, socket: import("node:stream").Duplex) => {
      record(req, true);
      socket.destroy();
    };
    server.on("upgrade", onUpgrade);
    server.on("connect", onUpgrade);
    server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      const out = outcome(socket);
      if (out) out.error ??= error.code ?? error.message;
      socket.destroy();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return oracle;
  }

  /** Sends `bytes` on a new connection, half-closes it and waits until the server is done. */
  async parse(bytes: Buffer): Promise<RequestOutcome> {
    const port = (this.#server.address() as { port: number }).port;
    const socket: Socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    socket.resume();
    await once(socket, "connect");
    const out: RequestOutcome = { requests: [] };
    const local = socket.localPort!;
    this.#outcomes.set(local, out);
    socket.end(bytes);
    await once(socket, "close");
    // The server's last events (a request's 'end', a clientError) may run a turn later.
    await new Promise((resolve) => setImmediate(resolve));
    this.#outcomes.delete(local);
    out.requests = out.requests.filter((r) => r.complete).map(({ complete: _, ...r }) => r);
    return out;
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }
}
