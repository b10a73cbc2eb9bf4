import type { Agent } from "node:http";
import type { ConnectionOptions } from "node:tls";
import { http, https } from "../../runtime/builtins.ts";
import { RawPool } from "../transport/raw-pool.ts";

export interface EndpointOptions {
  idleTimeoutMs: number;
  maxConnections: number;
  /** TLS to the endpoint (upstream-tls.ts); plain TCP when undefined. */
  tls?: ConnectionOptions | undefined;
}

/** One upstream address with its keep-alive connection pool and health state. */
export class Endpoint {
  readonly host: string;
  readonly port: number;
  /** "host:port", the access log's upstream endpoint and the bounded-by-config identity. */
  readonly address: string;
  /** node:http pool (chunked request bodies, Expect: 100-continue). */
  readonly agent: Agent;
  /** TLS options of every connection to it; undefined for plain HTTP. */
  readonly tls: ConnectionOptions | undefined;
  #rawPool: RawPool | undefined;
  readonly #idleTimeoutMs: number;
  readonly #maxConnections: number;
  /** Requests in flight to this endpoint (least-request LB). */
  active = 0;
  /** Consecutive failures counted by outlier detection. */
  consecutiveFailures = 0;
  /** Times ejected in a row (the ejection time grows with it). */
  ejections = 0;
  /** performance.now() until which the endpoint is ejected; 0 = not ejected. */
  ejectedUntil = 0;
  /** Active health checking's verdict (true until a check says otherwise). */
  healthy = true;

  constructor(host: string, port: number, { idleTimeoutMs, maxConnections, tls }: EndpointOptions) {
    this.host = host;
    this.port = port;
    this.address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#maxConnections = maxConnections;
    this.tls = tls;
    const pool = {
      keepAlive: true,
      timeout: idleTimeoutMs,
      maxSockets: maxConnections,
      maxFreeSockets: maxConnections,
      scheduling: "lifo",
    } as const;
    this.agent = tls ? new https.Agent({ ...pool, ...tls }) : new http.Agent(pool);
  }

  /** The hand-written keep-alive pool for bodiless requests (created on first use). */
  rawPool(): RawPool {
    this.#rawPool ??= new RawPool({
      host: this.host,
      port: this.port,
      idleTimeoutMs: this.#idleTimeoutMs,
      maxConnections: this.#maxConnections,
      tls: this.tls,
    });
    return this.#rawPool;
  }

  isAvailable(now: number): boolean {
    return this.healthy && this.ejectedUntil <= now;
  }

  close(): void {
    this.agent.destroy();
    this.#rawPool?.close();
  }
}
