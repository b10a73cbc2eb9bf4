import { ProxyErrorCodes } from "./error-codes.ts";
import type { LocalReply } from "./local-reply.ts";

/** Why a try failed before the upstream's response headers arrived. */
export type TryFailure = "connect-failure" | "reset" | "timeout";

const connectCodes = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
]);

/** Classifies a client request error as a connect failure or a reset. */
export function classifyError(error: NodeJS.ErrnoException): TryFailure {
  return connectCodes.has(error.code ?? "") ? "connect-failure" : "reset";
}

export function replyFor(failure: TryFailure, cluster: string, detail: string): LocalReply {
  switch (failure) {
    case "connect-failure":
      return {
        status: 502,
        code: ProxyErrorCodes.UPSTREAM_CONNECT,
        flag: "UF",
        message: `Cannot connect to cluster "${cluster}": ${detail}`,
      };
    case "reset":
      return {
        status: 502,
        code: ProxyErrorCodes.UPSTREAM_RESET,
        flag: "UC",
        message: `Upstream of cluster "${cluster}" closed the connection: ${detail}`,
      };
    case "timeout":
      return {
        status: 504,
        code: ProxyErrorCodes.UPSTREAM_TIMEOUT,
        flag: "UT",
        message: `Upstream of cluster "${cluster}" did not respond in time: ${detail}`,
      };
  }
}
