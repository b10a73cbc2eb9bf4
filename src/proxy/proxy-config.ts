import { z } from "zod";
import { net } from "../runtime/builtins.ts";
import { parseAddress } from "../runtime/config/address.ts";
import { addressSchema, seconds } from "../runtime/config/schema-helpers.ts";
import { httpTlsSchema } from "../runtime/http/http-client.ts";
import { addCidr } from "./client-address.ts";
import { rateLimitFields } from "./filters/rate-limit/index.ts";
import { filterConfigSchema } from "./filters/registry.ts";
import { defaultPathNormalization, pathNormalizationSchema } from "./path-normalization-config.ts";
import { listenerTlsSchema } from "./tls/tls-config.ts";

const positiveInt = (defaultValue: number) =>
  z
    .number({ error: "expected a positive integer" })
    .int({ error: "expected a positive integer" })
    .min(1, { error: "expected a positive integer" })
    .default(defaultValue);

const nonNegativeInt = (defaultValue: number) =>
  z
    .number({ error: "expected an integer ≥ 0" })
    .int({ error: "expected an integer ≥ 0" })
    .min(0, { error: "expected an integer ≥ 0" })
    .default(defaultValue);

const regexSchema = z.string().refine(
  (value) => {
    try {
      new RegExp(value);
      return true;
    } catch {
      return false;
    }
  },
  { error: "expected a valid regular expression" },
);

const retryOnSchema = z.enum(["connect-failure", "reset", "502", "503", "504", "5xx"]);

/** Retries (Envoy: off unless configured; here on by default for idempotent, bodiless requests). */
export const retryPolicySchema = z.strictObject({
  /** Retries after the first try (0 turns retries off). */
  maxRetries: nonNegativeInt(2),
  retryOn: z.array(retryOnSchema).default(["connect-failure", "reset", "502", "503", "504"]),
  /** Backoff base and cap: retry N waits a random time in [0, min(cap, base·2^N)). */
  backoffBaseSeconds: seconds(0.025),
  backoffMaxSeconds: seconds(0.25),
  /** Retries in flight may be at most this share of active requests… */
  budgetPercent: z.number().min(0).max(100).default(20),
  /** …but this many are always allowed. */
  minRetryConcurrency: nonNegativeInt(3),
  /**
   * An upstream 502/503/504 with `Retry-After` is retried after that delay when it is at most
   * this (and within the route timeout); a longer one is passed to the client as it is.
   */
  maxRetryAfterSeconds: seconds(1),
  /**
   * Request bodies up to this size (with Content-Length, idempotent methods) are buffered so
   * that a failed try can be retried; larger ones are streamed and not retried (Envoy buffers
   * up to its 1 MiB connection buffer limit).
   */
  bufferBytes: z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;
const retryDefaults = retryPolicySchema.parse({});

const headerMatchSchema = z
  .strictObject({
    name: z.string().min(1),
    exact: z.string().optional(),
    regex: regexSchema.optional(),
    present: z.boolean().optional(),
  })
  .refine((h) => [h.exact, h.regex, h.present].filter((v) => v !== undefined).length <= 1, {
    error: "use at most one of exact, regex, present",
  });

export const routeMatchSchema = z
  .strictObject({
    prefix: z.string().startsWith("/", { error: 'expected a path starting with "/"' }).optional(),
    path: z.string().startsWith("/", { error: 'expected a path starting with "/"' }).optional(),
    regex: regexSchema.optional(),
    /**
     * Whether path, prefix and regex compare case; off by default, so `/ADMIN` cannot walk
     * around a route for `/admin` to an app that routes case-insensitively.
     */
    caseSensitive: z.boolean().default(false),
    /** Host (authority without port, case-insensitive); "*.example.com" matches subdomains. */
    host: z.string().min(1).optional(),
    methods: z
      .array(z.string().regex(/^[A-Z]+$/, { error: "expected an upper-case method" }))
      .optional(),
    headers: z.array(headerMatchSchema).optional(),
  })
  .refine((m) => [m.prefix, m.path, m.regex].filter((v) => v !== undefined).length <= 1, {
    error: "use at most one of prefix, path, regex",
  });
export type RouteMatch = z.infer<typeof routeMatchSchema>;

export const routeSchema = z.strictObject({
  name: z.string().min(1).optional(),
  match: routeMatchSchema.default({ prefix: "/", caseSensitive: false }),
  /** The cluster (by name) this route sends to. */
  cluster: z.string().min(1),
  /** Until the upstream's response headers arrive, including every retry (Envoy: 15 s); 0 = none. */
  timeoutSeconds: seconds(15),
  /** Each try's limit until response headers; 0 = none. */
  perTryTimeoutSeconds: seconds(0),
  retries: retryPolicySchema.default(retryDefaults),
  /** Run after the listener's filters, in order (docs/proxy.md, "Filters"). */
  filters: z.array(filterConfigSchema).default([]),
});
export type RouteConfig = z.infer<typeof routeSchema>;

const cidrSchema = z.string().refine(
  (value) => {
    try {
      addCidr(new net.BlockList(), value);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IP address or CIDR, e.g. "10.0.0.0/8" or "fd00::/8"' },
);

/** Who the client is when the listener sits behind other proxies (docs/proxy.md, "Client address"). */
export const clientAddressSchema = z.strictObject({
  /** Hops from the right trusted whatever their address, the socket peer first (Envoy's xff_num_trusted_hops). */
  trustedHops: nonNegativeInt(0),
  /** Proxies trusted by address. */
  trustedCidrs: z.array(cidrSchema).default([]),
});

export const listenerSchema = z.strictObject({
  name: z.string().min(1).default("ingress"),
  address: addressSchema,
  routes: z.array(routeSchema).min(1, { error: "expected at least one route" }),
  /** Local rate limits; the bucket refills continuously. Runs as the first filter (`type: rate-limit`). */
  rateLimit: z.strictObject(rateLimitFields).optional(),
  /** Run on every request of the listener, in order, before the route's filters. */
  filters: z.array(filterConfigSchema).default([]),
  clientAddress: clientAddressSchema.default({ trustedHops: 0, trustedCidrs: [] }),
  /** Terminate TLS (docs/security.md): certificates, versions, client certificates, redirect. */
  tls: listenerTlsSchema.optional(),
  /** How paths are normalized before routing; the app receives the normalized path. */
  pathNormalization: pathNormalizationSchema.default(defaultPathNormalization),
  /** Hostile-input limits (each answered before anything reaches the app). */
  maxHeaderBytes: positiveInt(32 * 1024),
  maxUrlBytes: positiveInt(8 * 1024),
  maxRequestBodyBytes: positiveInt(100 * 1024 * 1024),
  /** A client must send its whole header block within this (slowloris → 408). */
  headersTimeoutSeconds: seconds(10, { min: 0.1 }),
  /** A keep-alive connection with no request in flight is closed after this. */
  idleTimeoutSeconds: seconds(60, { min: 0.1 }),
  /** No bytes either way on a request for this long → the request is reset (Envoy stream_idle_timeout). */
  streamIdleTimeoutSeconds: seconds(300),
  maxConnections: positiveInt(10_000),
});
export type ListenerConfig = z.infer<typeof listenerSchema>;

const endpointSchema = z.string().refine((v) => parseAddress(v) !== undefined, {
  error: 'expected an endpoint "host:port" (e.g. "127.0.0.1:8080" or "orders.default.svc:80")',
});

export const clusterSchema = z.strictObject({
  /** static: endpoints are used as given; dns: each name is re-resolved and every address is an endpoint. */
  type: z.enum(["static", "dns"]).default("static"),
  endpoints: z.array(endpointSchema).min(1, { error: "expected at least one endpoint" }),
  dnsRefreshSeconds: seconds(5, { min: 0.1 }),
  /**
   * TLS to the endpoints: `{ caFile?, certFile?, keyFile?, serverName?, insecureSkipVerify? }`;
   * verification is on (the system CAs when no caFile), SNI is the endpoint's configured name.
   */
  tls: httpTlsSchema.optional(),
  lbPolicy: z.enum(["round_robin", "least_request", "random"]).default("least_request"),
  connectTimeoutSeconds: seconds(5, { min: 0.01 }),
  /** Idle keep-alive connections to an endpoint close after this; keep it below the app's keep-alive (Node: 5 s). */
  idleTimeoutSeconds: seconds(4, { min: 0.1 }),
  /** Concurrent requests to the cluster; overflow → 503 UO with Retry-After (Envoy: 1024). */
  maxRequests: positiveInt(1024),
  /** Open connections per endpoint; more requests wait for one (within the route timeout). */
  maxConnectionsPerEndpoint: positiveInt(1024),
  outlierDetection: z
    .strictObject({
      consecutiveFailures: positiveInt(5),
      baseEjectionSeconds: seconds(30, { min: 0.01 }),
      maxEjectionSeconds: seconds(300, { min: 0.01 }),
      maxEjectionPercent: z.number().min(0).max(100).default(10),
    })
    .optional(),
  healthCheck: z
    .strictObject({
      path: z.string().startsWith("/").default("/healthz"),
      intervalSeconds: seconds(10, { min: 0.05 }),
      timeoutSeconds: seconds(1, { min: 0.01 }),
      unhealthyThreshold: positiveInt(2),
      healthyThreshold: positiveInt(1),
    })
    .optional(),
});
export type ClusterConfig = z.infer<typeof clusterSchema>;

export const accessLogSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** "stdout" or a file path. */
  path: z.string().min(1).default("stdout"),
  /** Paths (exact, without query) not logged, e.g. /healthz. */
  excludePaths: z.array(z.string()).default([]),
});

export const proxyConfigSchema = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1, { error: "expected at least one listener" }),
    clusters: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), clusterSchema),
    accessLog: accessLogSchema.default({ enabled: true, path: "stdout", excludePaths: [] }),
  })
  .superRefine((proxy, ctx) => {
    const names = new Set<string>();
    proxy.listeners.forEach((listener, i) => {
      if (names.has(listener.name))
        ctx.addIssue({
          code: "custom",
          path: ["listeners", i, "name"],
          message: `duplicate listener name "${listener.name}"`,
        });
      names.add(listener.name);
      listener.routes.forEach((route, j) => {
        if (!(route.cluster in proxy.clusters))
          ctx.addIssue({
            code: "custom",
            path: ["listeners", i, "routes", j, "cluster"],
            message: `unknown cluster "${route.cluster}"; declared: ${Object.keys(proxy.clusters).join(", ") || "none"}`,
          });
      });
    });
  });

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;
export type ProxyConfigInput = z.input<typeof proxyConfigSchema>;
