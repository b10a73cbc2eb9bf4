import { isToken, isValidFieldValue, parseContentLength, trimOws } from "./field-syntax.ts";

/**
 * A request line and header section (RFC 9112 §3, §5), checked as the downstream side needs
 * them: what frames the body, whether the connection stays open, whether it switches protocols.
 */
export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-, absolute-, authority- or asterisk-form). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  /** Raw [name, value, …] pairs as node's `req.rawHeaders`: values without surrounding OWS. */
  rawHeaders: string[];
  /** How the body is framed: none, exactly `length` bytes, or chunked coding. */
  framing: { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  /** Connection: upgrade with an Upgrade field, or CONNECT: the bytes after the head are not HTTP. */
  upgrade: boolean;
  /** HTTP/1.1 with `Expect: 100-continue`. */
  expectContinue: boolean;
}

/** Why a request is refused: a stable code and the status the proxy answers with. */
export interface RequestRefusal {
  code: RequestErrorCode;
  status: 400 | 431 | 501 | 505;
  message: string;
}

export type RequestErrorCode =
  | "INVALID_METHOD"
  | "INVALID_TARGET"
  | "INVALID_VERSION"
  | "UNSUPPORTED_VERSION"
  | "INVALID_HEADER_TOKEN"
  | "OBS_FOLD"
  | "BARE_CR_OR_LF"
  | "HEADERS_TOO_LARGE"
  | "MISSING_HOST"
  | "DUPLICATE_HOST"
  | "TE_AND_CL"
  | "INVALID_CONTENT_LENGTH"
  | "INVALID_TRANSFER_ENCODING"
  | "UNSUPPORTED_TRANSFER_ENCODING"
  | "INVALID_CHUNK"
  | "DATA_AFTER_CLOSE";

export function refusal(code: RequestErrorCode, message: string): RequestRefusal {
  const status =
    code === "HEADERS_TOO_LARGE"
      ? 431
      : code === "UNSUPPORTED_TRANSFER_ENCODING"
        ? 501
        : code === "UNSUPPORTED_VERSION"
          ? 505
          : 400;
  return { code, status, message };
}

/** The methods llhttp knows in HTTP mode (node's `http.METHODS`); any other is refused. */
const methods = new Set(
  "ACL BIND CHECKOUT CONNECT COPY DELETE GET HEAD LINK LOCK M-SEARCH MERGE MKACTIVITY MKCALENDAR MKCOL MOVE NOTIFY OPTIONS PATCH POST PROPFIND PROPPATCH PURGE PUT QUERY REBIND REPORT SEARCH SOURCE SUBSCRIBE TRACE UNBIND UNLINK UNLOCK UNSUBSCRIBE".split(
    " ",
  ),
);

/** Visible US-ASCII only (0x21–0x7E), as llhttp's URL parser in strict mode. */
const visiblePattern = /^[!-~]+$/;
/** absolute-form: an http(s) URI with an authority (RFC 9112 §3.2.2). */
const absolutePattern = /^https?:\/\/[A-Za-z0-9\-._~!$&'()*+,;=%:@[\]]+(?:[/?][!-~]*)?$/i;
/** authority-form for CONNECT: host:port (RFC 9112 §3.2.3). */
const authorityPattern = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

function checkTarget(method: string, target: string): string | undefined {
  if (!visiblePattern.test(target)) return "request-target has a byte outside 0x21-0x7E";
  if (method === "CONNECT")
    return authorityPattern.test(target) ? undefined : "CONNECT needs an authority-form target";
  if (target === "*") return method === "OPTIONS" ? undefined : "asterisk-form is for OPTIONS only";
  if (target.charCodeAt(0) === 47) return undefined;
  return absolutePattern.test(target)
    ? undefined
    : "request-target is not origin- or absolute-form";
}

/** The request line: `method SP request-target SP HTTP/1.x`, exactly one SP between parts. */
function parseRequestLine(line: string): RequestHead | RequestRefusal {
  const sp1 = line.indexOf(" ");
  if (sp1 === -1) return refusal("INVALID_METHOD", "Request line without a space");
  const method = line.slice(0, sp1);
  if (!methods.has(method)) return refusal("INVALID_METHOD", `Unknown method "${method}"`);
  const sp2 = line.indexOf(" ", sp1 + 1);
  if (sp2 === -1) return refusal("INVALID_VERSION", "Request line without an HTTP version");
  const target = line.slice(sp1 + 1, sp2);
  const bad = target === "" ? "empty request-target" : checkTarget(method, target);
  if (bad) return refusal("INVALID_TARGET", `Invalid request-target "${target}": ${bad}`);
  const version = line.slice(sp2 + 1);
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    // llhttp takes HTTP/0.9 and HTTP/2.0 lines; the proxy speaks only 1.0 and 1.1 here.
    if (version === "HTTP/0.9" || version === "HTTP/2.0")
      return refusal("UNSUPPORTED_VERSION", `Unsupported HTTP version "${version}"`);
    return refusal("INVALID_VERSION", `Invalid HTTP version "${version}"`);
  }
  return {
    method,
    target,
    minorVersion: version === "HTTP/1.1" ? 1 : 0,
    rawHeaders: [],
    framing: { kind: "none" },
    keepAlive: true,
    upgrade: false,
    expectContinue: false,
  };
}

/**
 * Whether a comma-separated list (Connection) holds `token`, case-insensitively. Items are
 * trimmed of SP and HTAB only: String#trim would also drop NBSP (0xA0) and take "\u00a0close"
 * for close where llhttp does not.
 */
function listHas(list: string, token: string): boolean {
  for (const item of list.split(",")) if (trimOws(item).toLowerCase() === token) return true;
  return false;
}

const continuePattern = /(?:^|\W)100-continue(?:$|\W)/i;

export interface RequestHeadOptions {
  maxHeaderBytes: number;
  requireHost: boolean;
}

/**
 * Parses a request head: `text` is everything before the blank line, lines separated by CRLF
 * (the caller already refused a bare CR or LF). The header bytes are counted as node:http counts
 * them against `maxHeaderSize`: the request-target, each field name and each value from its
 * first non-OWS byte to the end of its line; a head is refused when the sum reaches the limit.
 */
export function parseRequestHead(
  text: string,
  options: RequestHeadOptions,
): RequestHead | RequestRefusal {
  let eol = text.indexOf("\r\n");
  if (eol === -1) eol = text.length;
  const head = parseRequestLine(text.slice(0, eol));
  if ("code" in head) return head;
  let counted = head.target.length;
  const tooLarge = () =>
    refusal("HEADERS_TOO_LARGE", `Request header block is over ${options.maxHeaderBytes} bytes`);
  if (counted >= options.maxHeaderBytes) return tooLarge();
  let lengths = 0;
  let codings = 0;
  let chunked = false;
  let unsupported = false;
  let hosts = 0;
  let connection = "";
  let upgradeField = false;
  let expect = false;
  while (eol < text.length) {
    const start = eol + 2;
    eol = text.indexOf("\r\n", start);
    if (eol === -1) eol = text.length;
    const first = text.charCodeAt(start);
    if (first === 32 || first === 9)
      return refusal("OBS_FOLD", "Header line folded onto the previous one (obs-fold)");
    const colon = text.indexOf(":", start);
    if (colon === -1 || colon >= eol)
      return refusal("INVALID_HEADER_TOKEN", "Header line without a colon");
    const name = text.slice(start, colon);
    if (!isToken(name))
      return refusal("INVALID_HEADER_TOKEN", `Invalid header name ${JSON.stringify(name)}`);
    let from = colon + 1;
    let to = eol;
    while (from < to && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
    counted += name.length + (to - from);
    if (counted >= options.maxHeaderBytes) return tooLarge();
    while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--;
    const value = text.slice(from, to);
    if (!isValidFieldValue(value))
      return refusal("INVALID_HEADER_TOKEN", `Control character in the value of "${name}"`);
    head.rawHeaders.push(name, value);
    const lower = name.length <= 17 ? name.toLowerCase() : "";
    if (lower === "content-length") {
      lengths += 1;
      const length = parseContentLength(value);
      if (length === undefined)
        return refusal("INVALID_CONTENT_LENGTH", `Invalid Content-Length "${value}"`);
      if (lengths > 1) return refusal("INVALID_CONTENT_LENGTH", "More than one Content-Length");
      head.framing = { kind: "length", length };
    } else if (lower === "transfer-encoding") {
      // llhttp refuses "chunked<HTAB>" (an HTAB after the value's first byte), not "<HTAB>chunked".
      if (value === "" || text.slice(from, eol).includes("\t"))
        return refusal("INVALID_TRANSFER_ENCODING", `Invalid Transfer-Encoding "${value}"`);
      // OWS only (not String#trim, which drops NBSP: llhttp refuses "\u00a0chunked").
      const items = value.split(",").map((item) => trimOws(item).toLowerCase());
      for (const item of items) {
        if (chunked || !isToken(item))
          return refusal("INVALID_TRANSFER_ENCODING", `Invalid Transfer-Encoding "${value}"`);
        codings += 1;
        if (item === "chunked") chunked = true;
      }
      if (codings > 1) unsupported = true;
    } else if (lower === "host") hosts += 1;
    else if (lower === "connection") connection += `${value},`;
    else if (lower === "upgrade") upgradeField = true;
    else if (lower === "expect") expect ||= continuePattern.test(value);
  }
  if (codings > 0) {
    if (lengths > 0)
      return refusal("TE_AND_CL", "Both Content-Length and Transfer-Encoding frame the request");
    if (!chunked)
      return refusal("INVALID_TRANSFER_ENCODING", "Transfer-Encoding does not end in chunked");
    if (unsupported)
      return refusal(
        "UNSUPPORTED_TRANSFER_ENCODING",
        "Transfer-Encoding other than exactly chunked is not implemented",
      );
    head.framing = { kind: "chunked" };
  }
  if (hosts === 0 && head.minorVersion === 1 && options.requireHost)
    return refusal("MISSING_HOST", "HTTP/1.1 request without a Host header");
  if (hosts > 1) return refusal("DUPLICATE_HOST", "More than one Host header");
  head.keepAlive =
    head.minorVersion === 1 ? !listHas(connection, "close") : listHas(connection, "keep-alive");
  // An HTTP/1.0 message with Transfer-Encoding has faulty framing: close after it (RFC 9112 §6.1).
  if (head.minorVersion === 0 && codings > 0) head.keepAlive = false;
  head.upgrade = head.method === "CONNECT" || (upgradeField && listHas(connection, "upgrade"));
  head.expectContinue = expect && head.minorVersion === 1;
  return head;
}
