import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface TestCertificates {
  /** PEM files written to the directory. */
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The same PEMs, for servers started in the test. */
  ca: string;
  serverCert: string;
  serverKey: string;
}

/**
 * A throwaway CA and two certificates it signed, written as PEM files into `dir`: a server
 * certificate for `serverNames` (DNS names; IP addresses for names that look like one) and a
 * client certificate with CN `client`. EC P-256, so it takes milliseconds.
 */
export async function testCertificates(
  dir: string,
  serverNames: readonly string[] = ["127.0.0.1", "localhost"],
): Promise<TestCertificates> {
  const ec = { keyType: "ec", algorithm: "sha256" } as const;
  const ca = await generate([{ name: "commonName", value: "sidecar test CA" }], {
    ...ec,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  const signer = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: "commonName", value: serverNames[0]! }], {
    ...ec,
    ca: signer,
    extensions: [
      {
        name: "subjectAltName",
        altNames: serverNames.map((name) =>
          /^[\d.]+$|:/.test(name) ? { type: 7, ip: name } : { type: 2, value: name },
        ),
      },
      { name: "extKeyUsage", serverAuth: true },
    ],
  });
  const client = await generate([{ name: "commonName", value: "client" }], {
    ...ec,
    ca: signer,
    extensions: [{ name: "extKeyUsage", clientAuth: true }],
  });
  const files = {
    caFile: join(dir, "ca.pem"),
    serverCertFile: join(dir, "server.pem"),
    serverKeyFile: join(dir, "server-key.pem"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client-key.pem"),
  };
  await writeFile(files.caFile, ca.cert);
  await writeFile(files.serverCertFile, server.cert);
  await writeFile(files.serverKeyFile, server.private, { mode: 0o600 });
  await writeFile(files.clientCertFile, client.cert);
  await writeFile(files.clientKeyFile, client.private, { mode: 0o600 });
  return { ...files, ca: ca.cert, serverCert: server.cert, serverKey: server.private };
}
