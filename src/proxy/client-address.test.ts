import assert from "node:assert/strict";
import { test } from "node:test";
import { ClientAddressResolver, forwardedAddress } from "./client-address.ts";

test("without trusted hops or CIDRs the client is the peer and X-Forwarded-For is never read", () => {
  const resolver = new ClientAddressResolver();
  assert.equal(resolver.peerOnly, true);
  assert.equal(resolver.resolve("10.0.0.2", "203.0.113.9"), "10.0.0.2");
});

test("a spoofed X-Forwarded-For from an untrusted peer is ignored", () => {
  const resolver = new ClientAddressResolver({ trustedCidrs: ["10.0.0.0/8"] });
  assert.equal(resolver.resolve("198.51.100.4", "203.0.113.9"), "198.51.100.4");
  assert.equal(resolver.resolve("198.51.100.4", "10.0.0.1, 127.0.0.1"), "198.51.100.4");
});

test("trusted hops: the peer and the next hops from the right are skipped", () => {
  const one = new ClientAddressResolver({ trustedHops: 1 });
  assert.equal(one.resolve("10.0.0.2", "1.1.1.1, 2.2.2.2, 3.3.3.3"), "3.3.3.3");
  const two = new ClientAddressResolver({ trustedHops: 2 });
  assert.equal(two.resolve("10.0.0.2", "1.1.1.1, 2.2.2.2, 3.3.3.3"), "2.2.2.2");
  // A client adding its own entries on the left cannot move the result.
  assert.equal(two.resolve("10.0.0.2", "6.6.6.6, 1.1.1.1, 2.2.2.2, 3.3.3.3"), "2.2.2.2");
});

test("trusted CIDRs: every trusted proxy from the right is skipped, wherever it is", () => {
  const resolver = new ClientAddressResolver({ trustedCidrs: ["10.0.0.0/8", "192.0.2.7"] });
  assert.equal(resolver.resolve("10.0.0.2", "203.0.113.9, 192.0.2.7, 10.9.9.9"), "203.0.113.9");
  // The first untrusted address from the right wins, even with trusted ones further left.
  assert.equal(resolver.resolve("10.0.0.2", "10.1.1.1, 203.0.113.9, 10.9.9.9"), "203.0.113.9");
  // Hops and CIDRs together: the peer is a trusted hop, then CIDRs go on.
  const both = new ClientAddressResolver({ trustedHops: 1, trustedCidrs: ["10.0.0.0/8"] });
  assert.equal(both.resolve("198.51.100.1", "203.0.113.9, 10.9.9.9"), "203.0.113.9");
});

test("when every entry is trusted the client is the leftmost; without the header, the peer", () => {
  const resolver = new ClientAddressResolver({ trustedCidrs: ["10.0.0.0/8"] });
  assert.equal(resolver.resolve("10.0.0.2", "10.0.0.9, 10.0.0.8"), "10.0.0.9");
  assert.equal(resolver.resolve("10.0.0.2", undefined), "10.0.0.2");
  const hops = new ClientAddressResolver({ trustedHops: 5 });
  assert.equal(hops.resolve("10.0.0.2", "1.1.1.1, 2.2.2.2"), "1.1.1.1");
});

test("IPv6: peers, entries and CIDRs, bracketed with ports, and IPv4-mapped peers", () => {
  const resolver = new ClientAddressResolver({ trustedCidrs: ["fd00::/8", "10.0.0.0/8"] });
  assert.equal(resolver.resolve("fd00::2", "2001:db8::7"), "2001:db8::7");
  assert.equal(resolver.resolve("fd00::2", "[2001:db8::7]:4711, fd12::1"), "2001:db8::7");
  assert.equal(resolver.resolve("::ffff:10.0.0.2", "203.0.113.9"), "203.0.113.9");
  assert.equal(resolver.resolve("2001:db8::1", "203.0.113.9"), "2001:db8::1");
  assert.equal(new ClientAddressResolver({ trustedHops: 1 }).resolve("::1", "::2"), "::2");
});

test("a malformed entry stops the walk at the trusted hop that forwarded it", () => {
  const resolver = new ClientAddressResolver({ trustedCidrs: ["10.0.0.0/8"] });
  for (const garbage of [
    "unknown",
    "",
    "  ",
    "not an ip",
    "1.2.3",
    "1.2.3.4:port",
    "[::1",
    "_hidden",
  ])
    assert.equal(resolver.resolve("10.0.0.2", `203.0.113.9, ${garbage}`), "10.0.0.2", garbage);
  assert.equal(resolver.resolve("10.0.0.2", "203.0.113.9, unknown, 10.0.0.5"), "10.0.0.5");
  assert.equal(resolver.resolve("10.0.0.2", "203.0.113.9,,10.0.0.5"), "10.0.0.5");
  assert.equal(resolver.resolve("10.0.0.2", ""), "10.0.0.2");
  assert.equal(resolver.resolve("10.0.0.2", ",10.0.0.5"), "10.0.0.5");
  // Several header lines count as one list, in order.
  assert.equal(resolver.resolve("10.0.0.2", ["203.0.113.9", "10.0.0.5"]), "203.0.113.9");
});

test("forwarded entries: addresses with ports and brackets lose them; others are malformed", () => {
  assert.equal(forwardedAddress(" 192.0.2.1 "), "192.0.2.1");
  assert.equal(forwardedAddress("192.0.2.1:8080"), "192.0.2.1");
  assert.equal(forwardedAddress("[2001:db8::1]"), "2001:db8::1");
  assert.equal(forwardedAddress("[2001:db8::1]:443"), "2001:db8::1");
  assert.equal(forwardedAddress("2001:db8::1"), "2001:db8::1");
  for (const bad of ["[2001:db8::1]x", "[1.2.3.4]", "host:80", "1.2.3.4:", "1.2.3.4:123456", "x"])
    assert.equal(forwardedAddress(bad), undefined, bad);
});

test("bad options are refused with the value in the message", () => {
  assert.throws(
    () => new ClientAddressResolver({ trustedCidrs: ["10.0.0.0/33"] }),
    /"10.0.0.0\/33"/,
  );
  assert.throws(() => new ClientAddressResolver({ trustedCidrs: ["nope"] }), TypeError);
  assert.throws(() => new ClientAddressResolver({ trustedHops: -1 }), RangeError);
});
