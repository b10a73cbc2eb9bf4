import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { ClientAuthConfig } from "./tls-config.ts";

/** Who a verified client certificate says the client is. */
export interface ClientIdentity {
  /** The subject as an RFC 4514 string, most specific first: `CN=web,O=Acme`. */
  subject: string;
  /** The subject's common name, or "". */
  commonName: string;
  dnsNames: string[];
  /** URI subjectAltNames, e.g. the SPIFFE ID `spiffe://cluster.local/ns/prod/sa/web`. */
  uris: string[];
  /** SHA-256 of the certificate's DER, lower-case hex (XFCC's `Hash`). */
  hash: string;
}

/** The subjectAltName entries of a certificate: Node prints `DNS:a, URI:b, DNS:"a\u002cb"`. */
export function subjectAltNames(cert: X509Certificate): { type: string; value: string }[] {
  const text = cert.subjectAltName;
  if (!text) return [];
  const out: { type: string; value: string }[] = [];
  for (const m of text.matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const raw = m[2]!;
    out.push({ type: m[1]!, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return out;
}

/** The identity in a certificate (verified or not: the caller checks `socket.authorized`). */
export function identityOf(cert: X509Certificate): ClientIdentity {
  const rdns = cert.subject.split("\n").filter(Boolean);
  const cn = rdns.find((rdn) => rdn.startsWith("CN="));
  const names = subjectAltNames(cert);
  return {
    subject: rdns.reverse().join(","),
    commonName: cn ? cn.slice(3) : "",
    dnsNames: names.filter((n) => n.type === "DNS").map((n) => n.value),
    uris: names.filter((n) => n.type === "URI").map((n) => n.value),
    hash: cert.fingerprint256.replaceAll(":", "").toLowerCase(),
  };
}

/** What a connection's handshake showed of the client: a verified identity, an unverified certificate, or none. */
type Peer = { identity: ClientIdentity } | { unverified: string } | null;
const peers = new WeakMap<TLSSocket, Peer>();

function peerOf(socket: TLSSocket): Peer {
  let peer = peers.get(socket);
  if (peer === undefined) {
    const cert = socket.getPeerX509Certificate();
    peer = !cert
      ? null
      : socket.authorized
        ? { identity: identityOf(cert) }
        : { unverified: String(socket.authorizationError ?? "not verified") };
    peers.set(socket, peer);
  }
  return peer;
}

/**
 * The verified client identity of a TLS connection, or undefined when the client sent no
 * certificate or one the CA bundle does not vouch for. Read once per connection: call it when
 * the handshake completes (Node may drop the peer certificate afterwards).
 */
export function peerIdentity(socket: TLSSocket): ClientIdentity | undefined {
  const peer = peerOf(socket);
  return peer && "identity" in peer ? peer.identity : undefined;
}

/**
 * Why a connection's client certificate is refused under `clientAuth`, or undefined: one that
 * is presented but not verified (optional mode; a client that presents one means to be
 * someone), or a verified one that matches no allow-list entry.
 */
export function clientCertRefusal(
  socket: TLSSocket,
  clientAuth: ClientAuthConfig,
): string | undefined {
  const peer = peerOf(socket);
  if (peer === null) return undefined;
  if ("unverified" in peer) return `client certificate not verified: ${peer.unverified}`;
  if (!isAllowed(peer.identity, clientAuth.allow))
    return `client certificate ${peer.identity.subject} is not on the allow-list`;
  return undefined;
}

function matches(patterns: readonly string[] | undefined, values: readonly string[]): boolean {
  if (!patterns) return false;
  return patterns.some((pattern) =>
    pattern.endsWith("*")
      ? values.some((v) => v.startsWith(pattern.slice(0, -1)))
      : values.includes(pattern),
  );
}

/** Whether the clientAuth allow-list accepts this identity (no allow-list: every verified one). */
export function isAllowed(identity: ClientIdentity, allow: ClientAuthConfig["allow"]): boolean {
  if (!allow || (!allow.subjects && !allow.dnsNames && !allow.uris)) return true;
  return (
    matches(allow.subjects, identity.commonName ? [identity.commonName] : []) ||
    matches(allow.dnsNames, identity.dnsNames) ||
    matches(allow.uris, identity.uris)
  );
}

/** A value of XFCC quoted when it holds `,`, `;`, `=` or `"` (Envoy's rule). */
function quote(value: string): string {
  return /[,;="]/.test(value)
    ? `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`
    : value;
}

/**
 * The X-Forwarded-Client-Cert value for one verified client in Envoy's format:
 * `By=<our URI SAN>;Hash=<sha256>;Subject="CN=…";URI=<spiffe id>;DNS=<name>` (By only when the
 * server certificate has a URI SAN; one `DNS=` per name).
 *
 * @example
 * formatXfcc(identity, "spiffe://cluster.local/ns/prod/sa/api");
 */
export function formatXfcc(identity: ClientIdentity, by: string | undefined): string {
  const parts: string[] = [];
  if (by) parts.push(`By=${quote(by)}`);
  parts.push(`Hash=${identity.hash}`);
  parts.push(`Subject="${identity.subject.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`);
  for (const uri of identity.uris) parts.push(`URI=${quote(uri)}`);
  for (const dns of identity.dnsNames) parts.push(`DNS=${quote(dns)}`);
  return parts.join(";");
}
