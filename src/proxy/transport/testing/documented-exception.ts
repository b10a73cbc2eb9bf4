/**
 * The rules under which RequestParser may refuse what llhttp accepts (docs/proxy.md, "Request
 * parsing"): the parser differential and the listener's end-to-end differential both name
 * their allowed differences with `documentedException`.
 */
import { caseMaxHeaderBytes } from "./request-cases.ts";
import type { ParsedRequest, RequestOutcome } from "./request-oracle.ts";

/** One Transfer-Encoding line, `chunked` in any case: what ours takes. */
const chunkedOnly = (r: ParsedRequest) => {
  const values = r.rawHeaders.filter(
    (_, i) => i % 2 === 1 && r.rawHeaders[i - 1]!.toLowerCase() === "transfer-encoding",
  );
  return values.length === 1 && values[0]!.toLowerCase() === "chunked";
};

const has = (r: ParsedRequest, name: string) =>
  r.rawHeaders.filter((v, i) => i % 2 === 0 && v.toLowerCase() === name).length;

/**
 * Why ours may refuse what llhttp accepts: the rule (docs/proxy.md, "Request parsing"), checked
 * against the request llhttp parsed where ours stopped; undefined when the difference is a bug.
 */
export function documentedException(
  text: string,
  ours: RequestOutcome,
  other: RequestOutcome,
): string | undefined {
  const last = ours.requests.at(-1);
  if (ours.error === "DATA_AFTER_CLOSE")
    return last?.httpVersion === "1.0" && has(last, "transfer-encoding") > 0
      ? "HTTP/1.0 with Transfer-Encoding closes the connection"
      : undefined;
  const r = other.requests[ours.requests.length];
  if (!r) return undefined;
  // llhttp takes runs of SP between the parts, and a line without a version as HTTP/0.9.
  const requestLine =
    /(?:^|\n)[A-Z-]+(?: {2}| [^ \r\n]* {2})/.test(text) || r.httpVersion === "0.9";
  switch (ours.error) {
    case "INVALID_METHOD":
      return r.method === "PRI" ? "PRI (the HTTP/2 preface's method)" : undefined;
    case "UNSUPPORTED_VERSION":
      return r.httpVersion === "0.9" || r.httpVersion === "2.0"
        ? "HTTP/0.9 and HTTP/2.0 request lines"
        : undefined;
    case "BARE_CR_OR_LF":
    case "INVALID_VERSION":
      return requestLine ? "request line other than method SP target SP HTTP/1.x" : undefined;
    case "INVALID_TARGET":
      if (requestLine) return "request line other than method SP target SP HTTP/1.x";
      return (r.url === "*" && r.method !== "OPTIONS") ||
        r.method === "CONNECT" ||
        /^[A-Za-z][A-Za-z0-9+.-]*:/.test(r.url)
        ? "request-target form checked against the method"
        : undefined;
    case "UNSUPPORTED_TRANSFER_ENCODING":
    case "INVALID_TRANSFER_ENCODING":
      // llhttp does not check the framing of an upgrade or CONNECT head (it reads no body).
      return has(r, "transfer-encoding") > 0 && (!chunkedOnly(r) || r.upgrade)
        ? "Transfer-Encoding other than exactly chunked"
        : undefined;
    case "DUPLICATE_HOST":
      return has(r, "host") > 1 ? "more than one Host" : undefined;
    case "MISSING_HOST":
      // node:http checks Host only for the requests it emits as 'request'.
      return has(r, "host") === 0 && r.upgrade
        ? "HTTP/1.1 without Host, also for upgrade and CONNECT"
        : undefined;
    case "INVALID_CONTENT_LENGTH":
      return r.rawHeaders.some((v, i) => i % 2 === 1 && /^\d{16,}$/.test(v))
        ? "length above 2^53 - 1"
        : undefined;
    case "INVALID_CHUNK":
      return /\n[0-9a-fA-F]{14,}[;\r]/.test(text) ? "length above 2^53 - 1" : undefined;
    case "HEADERS_TOO_LARGE":
      return text.length > 2 * caseMaxHeaderBytes + 1024
        ? "raw head over 2 x maxHeaderBytes + 1 KiB"
        : undefined;
    default:
      return undefined;
  }
}
