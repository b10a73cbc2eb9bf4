import { generate } from "selfsigned";

export interface TestCa {
  cert: string;
  key: string;
}

export interface TestLeaf {
  cert: string;
  key: string;
}

const ec = { keyType: "ec", algorithm: "sha256" } as const;

/** A throwaway CA (EC P-256: milliseconds to make). */
export async function testCa(name = "sidecar test CA"): Promise<TestCa> {
  const ca = await generate([{ name: "commonName", value: name }], {
    ...ec,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

/**
 * A certificate signed by `ca` with common name `cn` and the given DNS names, IP addresses and
 * URIs (SPIFFE IDs) as subjectAltNames; `usage` picks the extended key usage.
 */
export async function testLeaf(
  ca: TestCa,
  cn: string,
  {
    dns = [],
    ips = [],
    uris = [],
    usage = "server",
  }: { dns?: string[]; ips?: string[]; uris?: string[]; usage?: "server" | "client" } = {},
): Promise<TestLeaf> {
  const altNames = [
    ...dns.map((value) => ({ type: 2 as const, value })),
    ...ips.map((ip) => ({ type: 7 as const, ip })),
    ...uris.map((value) => ({ type: 6 as const, value })),
  ];
  const leaf = await generate([{ name: "commonName", value: cn }], {
    ...ec,
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      ...(altNames.length > 0 ? [{ name: "subjectAltName" as const, altNames }] : []),
      usage === "server"
        ? { name: "extKeyUsage" as const, serverAuth: true }
        : { name: "extKeyUsage" as const, clientAuth: true },
    ],
  });
  return { cert: leaf.cert, key: leaf.private };
}
