import { ProxyErrorCodes } from "./error-codes.ts";
import type { LocalReply } from "./local-reply.ts";
import type { ListenerConfig } from "./proxy-config.ts";

/**
 * The answer to a request node:http's parser refused (before any routing): 431 for an
 * oversized header block, 408 for headers that came too slowly, 400 for anything malformed;
 * undefined when the client is gone and there is no one to answer.
 */
export function clientErrorReply(
  /** node:http's error code (HPE_*, ERR_HTTP_REQUEST_TIMEOUT, …). */
  code: string | undefined,
  config: Pick<ListenerConfig, "maxHeaderBytes" | "headersTimeoutSeconds">,
): { reply: LocalReply; reason: string } | undefined {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        reason: "Request Header Fields Too Large",
        reply: {
          status: 431,
          code: ProxyErrorCodes.HEADERS_TOO_LARGE,
          flag: "DPE",
          message: `Request header block is over ${config.maxHeaderBytes} bytes`,
        },
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        reason: "Request Timeout",
        reply: {
          status: 408,
          code: ProxyErrorCodes.REQUEST_TIMEOUT,
          flag: "SI",
          message: `Request headers not received within ${config.headersTimeoutSeconds} s`,
        },
      };
    case "ECONNRESET":
    case "EPIPE":
      return undefined;
    default:
      return {
        reason: "Bad Request",
        reply: {
          status: 400,
          code: ProxyErrorCodes.BAD_REQUEST,
          flag: "DPE",
          message: `Malformed request: ${code ?? "parse error"}`,
        },
      };
  }
}
