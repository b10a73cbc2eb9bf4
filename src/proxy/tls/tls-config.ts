import { z } from "zod";
import { addressSchema, seconds } from "../../runtime/config/schema-helpers.ts";

const tlsVersion = z.enum(["TLSv1.2", "TLSv1.3"]);

export const certificateSchema = z.strictObject({
  /** PEM certificate chain (leaf first), e.g. `tls.crt` of a mounted Secret. */
  certFile: z.string().min(1),
  /** PEM private key, e.g. `tls.key`. */
  keyFile: z.string().min(1),
  /**
   * SNI names this certificate serves (`*.example.com` for one level of subdomains); by default
   * the DNS names of its subjectAltName.
   */
  serverNames: z.array(z.string().min(1)).optional(),
});
export type CertificateConfig = z.infer<typeof certificateSchema>;

/** An allow-list entry matches exactly, or by a trailing `*` (any rest) as in `spiffe://cluster.local/ns/prod/*`. */
const patternList = z.array(z.string().min(1)).optional();

export const clientAuthSchema = z.strictObject({
  /** require: no verified certificate, no handshake; optional: without one the request goes on without a client identity. */
  mode: z.enum(["require", "optional"]).default("require"),
  /** PEM bundle of the CAs client certificates must chain to; reloaded when it changes. */
  caFile: z.string().min(1),
  /**
   * Client certificates accepted (any one entry matching is enough, as in ghostunnel); none
   * configured accepts every certificate the CA signed. A refused one gets a 403.
   */
  allow: z
    .strictObject({
      /** Subject common names. */
      subjects: patternList,
      /** DNS subjectAltNames. */
      dnsNames: patternList,
      /** URI subjectAltNames: SPIFFE IDs such as `spiffe://cluster.local/ns/prod/sa/web`. */
      uris: patternList,
    })
    .optional(),
  /**
   * X-Forwarded-Client-Cert to the app, in Envoy's format (By, Hash, Subject, URI, DNS):
   * "set" (the verified identity; any incoming one removed) or "none" (only removed).
   */
  forwardClientCert: z.enum(["set", "none"]).default("set"),
});
export type ClientAuthConfig = z.infer<typeof clientAuthSchema>;

export const listenerTlsSchema = z
  .strictObject({
    /** Shorthand for one certificate (`certificates: [{ certFile, keyFile }]`). */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** Several certificates chosen by SNI; the first is the default (no SNI, no match). */
    certificates: z.array(certificateSchema).optional(),
    minVersion: tlsVersion.default("TLSv1.2"),
    maxVersion: tlsVersion.default("TLSv1.3"),
    /** OpenSSL cipher list (TLS 1.2 suites and TLS 1.3 `TLS_*` suites); Node's defaults otherwise. */
    ciphers: z.string().min(1).optional(),
    /** ECDH curves, e.g. "X25519:P-256"; Node's defaults otherwise. */
    ecdhCurve: z.string().min(1).optional(),
    clientAuth: clientAuthSchema.optional(),
    /** A client must finish the handshake within this. */
    handshakeTimeoutSeconds: seconds(10, { min: 0.1 }),
    /** A plain-HTTP listener that answers every request with a 308 to the same URL over HTTPS. */
    redirectHttp: z
      .strictObject({
        address: addressSchema,
        /** The port in the Location; by default the TLS listener's. */
        httpsPort: z.number().int().min(1).max(65535).optional(),
      })
      .optional(),
  })
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    error: "set certFile and keyFile together",
  })
  .refine((t) => (t.certFile !== undefined) !== (t.certificates !== undefined), {
    error: "set either certFile/keyFile or certificates (one or more)",
  })
  .refine((t) => t.certificates === undefined || t.certificates.length > 0, {
    error: "expected at least one certificate",
  })
  .refine((t) => t.minVersion <= t.maxVersion, {
    error: "minVersion is above maxVersion",
  });
export type ListenerTlsConfig = z.infer<typeof listenerTlsSchema>;
