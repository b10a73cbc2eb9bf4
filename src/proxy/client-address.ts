import type { BlockList } from "node:net";
import { net } from "../runtime/builtins.ts";

export interface ClientAddressOptions {
  /**
   * Hops counted from the right that are trusted whatever their address, the socket peer being
   * the first (Envoy's xff_num_trusted_hops). 0: only trustedCidrs are trusted.
   */
  trustedHops?: number;
  /** Addresses trusted wherever they appear: "10.0.0.0/8", "fd00::/8", "192.0.2.7". */
  trustedCidrs?: readonly string[];
}

/** An address of an X-Forwarded-For entry without port or brackets, or undefined if malformed. */
export function forwardedAddress(entry: string): string | undefined {
  const value = entry.trim();
  if (net.isIP(value) !== 0) return value;
  if (value[0] === "[") {
    // [v6] or [v6]:port
    const end = value.indexOf("]");
    const inner = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (end === -1 || net.isIPv6(inner) === false) return undefined;
    return rest === "" || /^:\d{1,5}$/.test(rest) ? inner : undefined;
  }
  // v4:port
  const colon = value.indexOf(":");
  if (colon === -1 || !/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined;
  const host = value.slice(0, colon);
  return net.isIPv4(host) ? host : undefined;
}

/** Parses "a.b.c.d/n", "v6/n" or a single address; throws a TypeError when it is neither. */
export function addCidr(list: BlockList, cidr: string): void {
  const slash = cidr.indexOf("/");
  const address = slash === -1 ? cidr : cidr.slice(0, slash);
  const family = net.isIP(address);
  const bits = family === 4 ? 32 : 128;
  const prefix = slash === -1 ? bits : Number(cidr.slice(slash + 1));
  if (
    family === 0 ||
    !/^\d{1,3}$/.test(slash === -1 ? "0" : cidr.slice(slash + 1)) ||
    prefix > bits
  )
    throw new TypeError(`Invalid CIDR "${cidr}": expected an address or "address/prefix"`);
  list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Finds the client of a request. Addresses are read from the right: the socket peer, then each
 * X-Forwarded-For entry from last to first. An address is trusted when it is one of the first
 * `trustedHops` read or lies in `trustedCidrs`. The client is the first address read that is not
 * trusted; when every entry is trusted, the leftmost; when the walk meets a malformed entry
 * (not an IP, `ip:port` or `[ip]:port`: "unknown", "", garbage), it stops there and the client
 * is the last address read, the trusted hop that forwarded the garbage. With neither option set
 * the client is the peer and X-Forwarded-For is not read.
 *
 * @example
 * const resolver = new ClientAddressResolver({ trustedCidrs: ["10.0.0.0/8"] });
 * resolver.resolve("10.0.0.2", "203.0.113.9, 10.0.0.1"); // "203.0.113.9"
 * resolver.resolve("198.51.100.4", "203.0.113.9");        // "198.51.100.4" (peer not trusted)
 */
export class ClientAddressResolver {
  readonly #hops: number;
  readonly #cidrs: BlockList | undefined;

  constructor({ trustedHops = 0, trustedCidrs = [] }: ClientAddressOptions = {}) {
    if (!Number.isInteger(trustedHops) || trustedHops < 0)
      throw new RangeError(`trustedHops must be an integer ≥ 0, got ${trustedHops}`);
    this.#hops = trustedHops;
    if (trustedCidrs.length > 0) {
      const list = new net.BlockList();
      for (const cidr of trustedCidrs) addCidr(list, cidr);
      this.#cidrs = list;
    }
  }

  /** Whether X-Forwarded-For is never read (the client is always the peer). */
  get peerOnly(): boolean {
    return this.#hops === 0 && this.#cidrs === undefined;
  }

  #trusted(address: string, position: number): boolean {
    if (position < this.#hops) return true;
    return this.#cidrs?.check(address, net.isIPv4(address) ? "ipv4" : "ipv6") === true;
  }

  /** The client address of a request from `peer` carrying `forwardedFor` (every XFF value). */
  resolve(peer: string, forwardedFor: string | readonly string[] | undefined): string {
    if (this.peerOnly || forwardedFor === undefined || !this.#trusted(peer, 0)) return peer;
    const list = typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(",");
    let client = peer;
    let position = 0;
    let end = list.length;
    for (;;) {
      const comma = list.lastIndexOf(",", end - 1);
      const address = forwardedAddress(list.slice(comma + 1, end));
      if (address === undefined) return client;
      client = address;
      position += 1;
      if (comma === -1 || !this.#trusted(address, position)) return client;
      end = comma;
    }
  }
}
