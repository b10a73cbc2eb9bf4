import { newRequestId, newTraceparent } from "./request-ids.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1) removed in both directions, besides those named in Connection. */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
]);

const requestIdPattern = /^[\x21-\x7e]{1,200}$/;
const traceparentPattern = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Names listed in every Connection header of `raw` (lower case). */
function connectionNamed(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== "connection") continue;
    const value = raw[i + 1]!;
    // The common value names only a hop-by-hop header, which goes anyway: no Set, no split.
    if (value.length === 10 && value.toLowerCase() === "keep-alive") continue;
    for (const token of value.split(",")) {
      const name = token.trim().toLowerCase();
      if (!name || hopByHop.has(name)) continue;
      named ??= new Set();
      named.add(name);
    }
  }
  return named;
}

export interface UpstreamRequestHeaders {
  /** Raw [name, value, …] pairs to send upstream. */
  headers: string[];
  requestId: string;
  /** The Host the client asked for (without changes), or "". */
  host: string;
}

/**
 * Headers only the proxy sets: a client's copy is always removed, also when spelled with `_`
 * for `-` (CGI-style apps and some frameworks read `X_Forwarded_Client_Cert` as the same header).
 */
const proxyOwned = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-client-cert",
  "x-request-id",
]);

/** A header name as CGI-style readers see it: lower case, `_` read as `-`. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes("_") ? lower.replaceAll("_", "-") : lower;
}

export interface RequestHeaderOptions {
  clientAddress: string;
  /** "http" or "https" (the listener's scheme). */
  proto: string;
  /** Keep Upgrade/Connection: upgrade (a tunnelled upgrade request). */
  upgrade: boolean;
  /** The request body is chunked (re-framed upstream as chunked). */
  chunked: boolean;
  /**
   * Identity headers the listener's filters set (canonical names, see canonicalHeaderName):
   * the client's copies are removed whatever their case or `_`/`-` spelling.
   */
  identityHeaders?: ReadonlySet<string> | undefined;
  /** The X-Forwarded-Client-Cert value for a verified client certificate. */
  forwardedClientCert?: string | undefined;
}

/**
 * The headers sent upstream: hop-by-hop and Connection-named headers removed, `te: trailers`
 * kept, X-Forwarded-For appended, X-Forwarded-Proto/-Host set, X-Request-Id and W3C traceparent
 * kept when valid and generated otherwise; the client's X-Forwarded-Client-Cert and identity
 * headers removed (any case, `_` for `-`), XFCC set from a verified client certificate.
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  {
    clientAddress,
    proto,
    upgrade,
    chunked,
    identityHeaders,
    forwardedClientCert,
  }: RequestHeaderOptions,
): UpstreamRequestHeaders {
  const named = connectionNamed(raw);
  const out: string[] = [];
  let forwardedFor = "";
  let requestId = "";
  let traceparent = "";
  let host = "";
  let upgradeValue = "";
  let teTrailers = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower)) {
      if (lower === "te" && value.trim().toLowerCase() === "trailers") teTrailers = true;
      else if (lower === "upgrade") upgradeValue = value;
      continue;
    }
    if (named?.has(lower)) continue;
    if (lower.includes("_")) {
      const canonical = lower.replaceAll("_", "-");
      if (proxyOwned.has(canonical) || identityHeaders?.has(canonical)) continue;
    } else if (identityHeaders?.has(lower)) continue;
    switch (lower) {
      case "x-forwarded-for":
        forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
        continue;
      case "x-forwarded-proto":
      case "x-forwarded-host":
      case "x-forwarded-client-cert":
        continue;
      case "x-request-id":
        if (!requestId && requestIdPattern.test(value)) requestId = value;
        continue;
      case "traceparent":
        if (!traceparent && traceparentPattern.test(value)) traceparent = value;
        continue;
      case "host":
        host = value;
        break;
    }
    out.push(name, value);
  }
  requestId ||= newRequestId();
  traceparent ||= newTraceparent();
  const client = clientAddress.startsWith("::ffff:") ? clientAddress.slice(7) : clientAddress;
  out.push("x-forwarded-for", forwardedFor ? `${forwardedFor}, ${client}` : client);
  out.push("x-forwarded-proto", proto);
  if (host) out.push("x-forwarded-host", host);
  out.push("x-request-id", requestId, "traceparent", traceparent);
  if (forwardedClientCert) out.push("x-forwarded-client-cert", forwardedClientCert);
  if (teTrailers) out.push("te", "trailers");
  if (chunked) out.push("transfer-encoding", "chunked");
  if (upgrade && upgradeValue) out.push("connection", "upgrade", "upgrade", upgradeValue);
  return { headers: out, requestId, host };
}

/** The lengths of the names downstreamResponseHeaders drops (hop-by-hop, Content-Length). */
const droppableLengths = new Set([...hopByHop, "content-length"].map((name) => name.length));

/**
 * The upstream response's headers without hop-by-hop and Connection-named ones, and without
 * Content-Length: the proxy frames what it sends itself, from the length its parser enforces
 * (`withContentLength`), never from a header the upstream sent.
 */
export function downstreamResponseHeaders(raw: readonly string[], keepUpgrade = false): string[] {
  const named = connectionNamed(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    // Without Connection-named headers, only names of a hop-by-hop header's or Content-Length's
    // length can be dropped: the others are passed on without a lower-cased copy.
    if (named === undefined && !droppableLengths.has(raw[i]!.length)) {
      out.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    const lower = raw[i]!.toLowerCase();
    if (keepUpgrade && lower === "upgrade") {
      out.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    if (hopByHop.has(lower) || lower === "content-length" || named?.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * Adds the Content-Length the proxy frames a response with: the body length its transport
 * enforces, or for HEAD and 304 the validated length of the representation; none for 1xx, 204
 * and unknown lengths (node:http then chunks, or closes for an HTTP/1.0 client).
 */
export function withContentLength(
  headers: string[],
  status: number,
  contentLength: number | undefined,
): string[] {
  if (contentLength !== undefined && status >= 200 && status !== 204)
    headers.push("content-length", String(contentLength));
  return headers;
}

/**
 * Fields that never travel in a trailer section (RFC 9110 §6.5.1): framing, hop-by-hop and
 * routing fields, and those that describe the content a trailer comes after.
 */
const notInTrailers = new Set([
  ...hopByHop,
  "content-length",
  "trailer",
  "host",
  "content-encoding",
  "content-type",
  "content-range",
]);

/** The trailer fields passed on (either way), as [name, value] pairs for `addTrailers`. */
export function forwardedTrailers(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (!notInTrailers.has(raw[i]!.toLowerCase())) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
