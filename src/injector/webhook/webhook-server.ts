import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "node:https";
import { https } from "../../runtime/builtins.ts";
import { type ListenAddress, parseAddress } from "../../runtime/config/address.ts";
import { listenOn } from "../../runtime/listen.ts";
import type { Role } from "../../runtime/role.ts";
import type { RoleContext } from "../../runtime/role-definition.ts";
import { Counter, Histogram } from "../../runtime/telemetry/metrics-registry.ts";
import { type AdmissionPolicy, type AdmissionRequest, admit } from "./admission.ts";
import { readKeyPair, watchKeyPair } from "./tls-reloader.ts";
import type { WebhookConfig } from "./webhook-config.ts";

export interface WebhookRole extends Role {
  readonly address: ListenAddress | undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * The mutating admission webhook: an HTTPS server answering AdmissionReview v1 on POST /mutate
 * with the same injection `sidecar inject` does, its certificate reloaded when the Secret
 * changes. Health and metrics are on the admin port like every role's; GET /healthz answers
 * on the HTTPS port too, for a probe that checks the TLS side.
 */
export function createWebhookRole(
  config: WebhookConfig,
  policy: AdmissionPolicy,
  ctx: RoleContext,
): WebhookRole {
  const requests = new Counter({
    name: "sidecar_webhook_requests_total",
    help: "AdmissionReview requests answered, by result (injected, skipped, already_injected, refused, failed_open, bad_request).",
    labelNames: ["result"],
    registers: [ctx.registry],
  });
  const duration = new Histogram({
    name: "sidecar_webhook_request_duration_seconds",
    help: "Time to answer one AdmissionReview request.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [ctx.registry],
  });
  const shutdown = new AbortController();
  let server: Server | undefined;
  let bound: ListenAddress | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") return send(res, 200, { ok: true });
    if (path !== "/mutate")
      return send(res, 404, { error: "not_found", message: "POST AdmissionReview to /mutate" });
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return send(res, 405, { error: "method_not_allowed", message: "/mutate accepts POST" });
    }
    const started = performance.now();
    const body = await readBody(req, config.maxRequestBytes);
    if (!body) {
      requests.inc({ result: "bad_request" });
      return send(res, 413, {
        error: "too_large",
        message: `AdmissionReview larger than ${config.maxRequestBytes} bytes`,
      });
    }
    let review: { apiVersion?: string; kind?: string; request?: AdmissionRequest };
    try {
      review = JSON.parse(body.toString("utf8"));
    } catch {
      requests.inc({ result: "bad_request" });
      return send(res, 400, { error: "bad_request", message: "the body is not JSON" });
    }
    if (review?.kind !== "AdmissionReview" || typeof review.request?.uid !== "string") {
      requests.inc({ result: "bad_request" });
      return send(res, 400, {
        error: "bad_request",
        message: "expected an AdmissionReview with request.uid",
      });
    }
    const { response, result } = admit(review.request, policy);
    requests.inc({ result });
    duration.observe((performance.now() - started) / 1000);
    if (result === "refused" || result === "failed_open")
      ctx.logger.warn(
        { uid: response.uid, result, reason: response.status?.message ?? response.warnings?.[0] },
        "injection failed",
      );
    send(res, 200, {
      apiVersion: review.apiVersion ?? "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response,
    });
  }

  return {
    name: "webhook",
    get address() {
      return bound;
    },
    async start() {
      server = https.createServer(
        { ...readKeyPair(config.tls.certFile, config.tls.keyFile), minVersion: "TLSv1.2" },
        (req, res) => {
          handle(req, res).catch((error: unknown) => {
            ctx.logger.error({ error }, "webhook request failed");
            if (!res.headersSent) send(res, 500, { error: "internal" });
          });
        },
      );
      server.requestTimeout = 10_000;
      server.headersTimeout = 5_000;
      const address = parseAddress(config.listen)!;
      bound = await listenOn(server, address, "Webhook");
      const live = server;
      watchKeyPair(config.tls.certFile, config.tls.keyFile, (pair) => live.setSecureContext(pair), {
        logger: ctx.logger,
        signal: shutdown.signal,
      });
      ctx.logger.info(
        { address: `https://${config.listen.replace(/:\d+$/, `:${bound.port}`)}/mutate` },
        "webhook listening",
      );
    },
    ready: () => bound !== undefined,
    async stop(deadline) {
      shutdown.abort();
      const live = server;
      if (!live?.listening) return;
      await new Promise<void>((resolve) => {
        const onAbort = () => live.closeAllConnections();
        deadline.addEventListener("abort", onAbort, { once: true });
        live.close(() => {
          deadline.removeEventListener("abort", onAbort);
          resolve();
        });
        live.closeIdleConnections();
      });
    },
  };
}
