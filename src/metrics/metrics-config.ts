import { z } from "zod";
import { httpClientShape } from "../runtime/http/http-client.ts";
import { labelNamePattern } from "../runtime/telemetry/exposition/metric-family.ts";

const regex = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: `invalid regular expression: ${(error as Error).message}`,
    });
  }
});

const labelName = z
  .string()
  .regex(labelNamePattern, { error: "expected a label name: letters, digits and _" })
  .refine((name) => !name.startsWith("__"), { error: "label names starting with __ are reserved" });

/**
 * The `metrics:` section: the app's Prometheus endpoint, scraped when the sidecar's /metrics is,
 * and served with the sidecar's own series (as Istio's metrics merging does).
 *
 * @example
 * metrics:
 *   url: http://127.0.0.1:8080/metrics
 *   labelsFromEnv: { pod: POD_NAME, namespace: POD_NAMESPACE }
 *   drop: ["^go_"]
 */
export const metricsConfigSchema = z.strictObject({
  /** The app's metrics endpoint (text format or OpenMetrics). */
  url: z.url({
    protocol: /^https?$/,
    error: "expected an http(s) URL, e.g. http://127.0.0.1:8080/metrics",
  }),
  /** Headers, auth (basic, bearer, token file) and TLS for the app's endpoint, as every HTTP client has. */
  ...httpClientShape,
  /** A scrape of the app that takes longer fails (the sidecar's own series are served anyway). */
  timeoutSeconds: z.number().positive().default(3),
  /**
   * A scrape within this long of the last one is answered from it, so two Prometheus servers
   * scraping the sidecar do not double the app's load. 0 scrapes the app every time.
   */
  cacheSeconds: z.number().min(0).default(2),
  /** A response body larger than this fails the scrape (reason too_large). */
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  /** More series than this fails the scrape (reason series_limit), as Prometheus' sample_limit. 0: no limit. */
  maxSeries: z.number().int().min(0).default(50_000),
  /** Only families whose name matches one of these (default: all). */
  keep: z.array(regex).default([]),
  /** Families whose name matches one of these are left out (after keep). */
  drop: z.array(regex).default([]),
  /** Labels added to every app series, e.g. `{ cluster: eu-1 }` (`${VAR}` is expanded). */
  labels: z.record(labelName, z.string()).default({}),
  /** Labels from the environment (the Downward API), e.g. `{ pod: POD_NAME, node: NODE_NAME }`. */
  labelsFromEnv: z.record(labelName, z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default({}),
});

export type MetricsConfig = z.infer<typeof metricsConfigSchema>;
