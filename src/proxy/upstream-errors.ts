import { ProxyErrorCodes } from "./error-codes.ts";
import type { LocalReply } from "./local-reply.ts";

/**
 * Why a try failed: no connection, the connection closed or reset, no answer in time, or an
 * answer that breaks HTTP/1.1 (malformed or ambiguously framed; never passed on).
 */
export type TryFailure = "connect-failure" | "reset" | "timeout" | "protocol";

const connectCodes = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
]);

/** Classifies a node:http client error: a connect failure, llhttp's parse error, or a reset. */
export function classifyError(error: NodeJS.ErrnoException): TryFailure {
  const code = error.code ?? "";
  if (connectCodes.has(code)) return "connect-failure";
  return code.startsWith("HPE_") ? "protocol" : "reset";
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
    case "protocol":
      return {
        status: 502,
        code: ProxyErrorCodes.UPSTREAM_PROTOCOL,
        flag: "UPE",
        message: `Upstream of cluster "${cluster}" sent a malformed response: ${detail}`,
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
