import type { Cluster } from "./cluster/cluster.ts";
import type { Endpoint } from "./cluster/endpoint.ts";
import type { CompiledRoute } from "./route-table.ts";

/** What one downstream request collected on its way, for the access log and metrics. */
export interface Exchange {
  startedAt: number;
  /** Date.now() at the start (a Date is made only for the access log). */
  startTime: number;
  method: string;
  /** Request target as sent by the client. */
  url: string;
  protocol: string;
  clientAddress: string;
  requestId: string;
  route: CompiledRoute | undefined;
  cluster: Cluster | undefined;
  endpoint: Endpoint | undefined;
  status: number;
  flags: string[];
  bytesReceived: number;
  bytesSent: number;
  /** ms from the first try to the upstream's response headers. */
  upstreamTime: number | undefined;
}

export function newExchange(
  method: string,
  url: string,
  protocol: string,
  clientAddress: string,
): Exchange {
  return {
    startedAt: performance.now(),
    startTime: Date.now(),
    method,
    url,
    protocol,
    clientAddress,
    requestId: "",
    route: undefined,
    cluster: undefined,
    endpoint: undefined,
    status: 0,
    flags: [],
    bytesReceived: 0,
    bytesSent: 0,
    upstreamTime: undefined,
  };
}

export function addFlag(exchange: Exchange, flag: string): void {
  if (!exchange.flags.includes(flag)) exchange.flags.push(flag);
}
