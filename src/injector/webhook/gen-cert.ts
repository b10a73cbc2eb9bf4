import { commonJsExports } from "../../runtime/commonjs-exports.ts";

export interface GeneratedCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The CA in base64, as MutatingWebhookConfiguration's `clientConfig.caBundle` wants it. */
  caBundle: string;
}

export interface GenCertOptions {
  /** The webhook's Service name and namespace: the certificate's DNS names come from them. */
  service: string;
  namespace: string;
  /** Validity in days (default 365). */
  days?: number;
}

/**
 * A CA and a serving certificate for the webhook's Service (ECDSA P-256, SHA-256), for clusters
 * without cert-manager: `sidecar webhook gen-cert` writes them and prints the caBundle.
 */
export async function generateWebhookCertificates({
  service,
  namespace,
  days = 365,
}: GenCertOptions): Promise<GeneratedCertificates> {
  // Loaded only here: a running sidecar never needs the certificate generator.
  const { generate } = commonJsExports(await import("selfsigned"), "generate");
  const notAfterDate = new Date(Date.now() + days * 86_400_000);
  const ca = await generate(
    [{ name: "commonName", value: `sidecar webhook CA (${namespace}/${service})` }],
    {
      keyType: "ec",
      algorithm: "sha256",
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      ],
    },
  );
  const names = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
  const server = await generate([{ name: "commonName", value: `${service}.${namespace}.svc` }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) },
    ],
  });
  return {
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.private,
    caBundle: Buffer.from(ca.cert).toString("base64"),
  };
}
