import { incomingHeaders } from "../../downstream/incoming-headers.ts";
import { RequestParser, type RequestParserOptions } from "../request-parser.ts";
import type { ParsedRequest, RequestOutcome } from "./request-oracle.ts";

/**
 * Runs RequestParser on one connection's bytes, fed in pieces cut at `cuts`, answering each
 * request at once (resume()) as the proxy would, as the oracle's server does.
 */
export function parseWithOurs(
  bytes: Buffer,
  cuts: number[],
  options: RequestParserOptions,
): RequestOutcome {
  const out: RequestOutcome = { requests: [] };
  let current: ParsedRequest | undefined;
  let ended = false;
  const parser = new RequestParser(
    {
      onHead(head) {
        current = {
          method: head.method,
          url: head.target,
          httpVersion: `1.${head.minorVersion}`,
          rawHeaders: head.rawHeaders,
          headers: incomingHeaders(head.rawHeaders),
          body: "",
          rawTrailers: [],
          upgrade: head.upgrade,
        };
      },
      onBody(chunk) {
        current!.body += chunk.toString("latin1");
      },
      onEnd(rawTrailers) {
        current!.rawTrailers = rawTrailers;
        out.requests.push(current!);
        ended = true;
      },
      onUpgrade() {
        out.requests.push(current!);
      },
      onError(code, status) {
        out.error = code;
        out.status = status;
      },
    },
    options,
  );
  const feed = (piece: Buffer) => {
    parser.feed(piece);
    while (ended) {
      ended = false;
      parser.resume();
    }
  };
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    feed(bytes.subarray(from, cut));
    from = cut;
  }
  if (out.error === undefined && parser.inMessage) out.error = "INCOMPLETE";
  return out;
}
