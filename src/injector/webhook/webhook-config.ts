import { z } from "zod";
import { addressSchema } from "../../runtime/config/schema-helpers.ts";

/** The `webhook:` section: the mutating admission webhook that injects the sidecar into Pods. */
export const webhookConfigSchema = z.strictObject({
  /** Where the HTTPS server listens (the Service's targetPort). */
  listen: addressSchema.default("0.0.0.0:8443"),
  tls: z.strictObject({
    /** The serving certificate (PEM), reloaded when it changes (a Secret's ..data swap too). */
    certFile: z.string().min(1),
    keyFile: z.string().min(1),
  }),
  /**
   * What to answer when injection fails for a Pod (a conflict, a bad annotation): `closed`
   * refuses the Pod with the reason, `open` admits it without the sidecar (with a warning).
   */
  failurePolicy: z.enum(["closed", "open"]).default("closed"),
  /** Inject Pods without a `sidecar.dev/inject` annotation or label (opt-out instead of opt-in). */
  injectByDefault: z.boolean().default(false),
  /** The sidecar image injected when a Pod does not name one. */
  image: z.string().min(1).optional(),
  /** Classic sidecars (under `containers`) for clusters before Kubernetes 1.29. */
  classic: z.boolean().default(false),
  /** An injection template file (as `sidecar inject --template`). */
  templateFile: z.string().min(1).optional(),
  /** The largest AdmissionReview body accepted. */
  maxRequestBytes: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
