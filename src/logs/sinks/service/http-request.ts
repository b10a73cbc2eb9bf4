import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { gzip } from "node:zlib";
import { z } from "zod";
import { fs, http, https, util } from "../../../runtime/builtins.ts";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import { describeError, SidecarError } from "../../../runtime/errors.ts";
import { parseRetryAfter } from "../../../runtime/retry-after.ts";
import { LogsSinkErrorCodes } from "../error-codes.ts";
import { outcomeOfStatus, type SendOutcome } from "./send-outcome.ts";

const gzipAsync = util.promisify(gzip);

/** Credentials for HTTP sinks; never logged (the logger masks `password` and `token` too). */
export const httpAuthSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("basic"), user: z.string(), password: z.string() }),
    z.strictObject({ type: z.literal("bearer"), token: z.string().min(1) }),
  ],
  { error: 'expected auth type "basic" or "bearer"' },
);
export type HttpAuth = z.infer<typeof httpAuthSchema>;

/** The options every HTTP-based sink shares. */
export const httpShape = {
  /** Extra request headers (e.g. an API key); values are never logged. */
  headers: z.record(z.string().min(1), z.string()).default({}),
  auth: httpAuthSchema.optional(),
  /** gzip the request body (Content-Encoding: gzip). */
  compression: z.enum(["none", "gzip"]).default("none"),
  /** One request may take this long before it counts as a retryable failure. */
  timeoutSeconds: seconds(10, { min: 0.001 }),
  /** TLS for https URLs: a CA bundle to trust (PEM file), or no verification at all (tests only). */
  tls: z
    .strictObject({
      caFile: z.string().min(1).optional(),
      insecureSkipVerify: z.boolean().default(false),
    })
    .optional(),
};

export const httpUrlSchema = z.url({
  protocol: /^https?$/,
  error: "expected an http:// or https:// URL",
});

export interface HttpRequest {
  url: string;
  method?: string;
  /** The body as is (a Buffer is sent without a copy). */
  body: string | Buffer;
  contentType: string;
  headers: Record<string, string>;
  auth?: HttpAuth | undefined;
  compression: "none" | "gzip";
  timeoutSeconds: number;
  signal: AbortSignal;
  now: () => number;
  /**
   * Called once nothing reads `body` any more (it was compressed, or written to the socket and
   * the request is over), so its memory may be reused; not called when that cannot be known
   * (the request failed while writing).
   */
  onBodyDone?: () => void;
}

export interface HttpResponse {
  status: number;
  /** The response body (up to 64 KiB). */
  text: string;
  retryAfterMs: number | undefined;
}

function authorization(auth: HttpAuth): string {
  return auth.type === "basic"
    ? `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`
    : `Bearer ${auth.token}`;
}

/** Keep-alive connection pools, one per sink (pass the same one to every request of a sink). */
export function createHttpAgents(
  maxSockets: number,
  tls: { caFile?: string | undefined; insecureSkipVerify: boolean } | undefined,
): { http: HttpAgent; https: HttpsAgent; destroy(): void } {
  let ca: Buffer | undefined;
  if (tls?.caFile) {
    try {
      ca = fs.readFileSync(tls.caFile);
    } catch (error) {
      throw new SidecarError(
        LogsSinkErrorCodes.TLS_CA,
        `Cannot read CA file "${tls.caFile}": ${describeError(error)}`,
        { cause: error },
      );
    }
  }
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets,
    ...(ca ? { ca } : {}),
    rejectUnauthorized: !tls?.insecureSkipVerify,
  });
  return {
    http: httpAgent,
    https: httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/**
 * Sends one request over a keep-alive pool (node:http/https: for large bodies it is several times
 * faster than fetch here). Connection errors and timeouts throw (the batched service treats a
 * throw as retryable).
 */
export async function sendHttp(
  request: HttpRequest,
  agents: { http: HttpAgent; https: HttpsAgent },
): Promise<HttpResponse> {
  const headers: Record<string, string> = {
    ...request.headers,
    "content-type": request.contentType,
  };
  const url = new URL(request.url);
  let auth = request.auth;
  if (url.username || url.password) {
    // Credentials in the URL become a Basic Authorization header (never part of a logged URL).
    auth ??= {
      type: "basic",
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
    url.username = "";
    url.password = "";
  }
  if (auth) headers.authorization = authorization(auth);
  let body: Buffer;
  if (request.compression === "gzip") {
    body = await gzipAsync(request.body);
    headers["content-encoding"] = "gzip";
    request.onBodyDone?.();
  } else body = typeof request.body === "string" ? Buffer.from(request.body) : request.body;
  headers["content-length"] = String(body.length);
  const secure = url.protocol === "https:";
  const { signal } = request;
  return new Promise<HttpResponse>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const req = (secure ? https.request : http.request)(url, {
      method: request.method ?? "POST",
      headers,
      agent: secure ? agents.https : agents.http,
    });
    // One timer and one listener per request: AbortSignal.any and AbortSignal.timeout (and the
    // request's own `signal` option) cost more than the rest of a small request.
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      req.destroy(error);
      reject(error);
    };
    const onAbort = () => fail(abortError(signal));
    const timer = setTimeout(
      () =>
        fail(
          new DOMException(
            `The request timed out after ${request.timeoutSeconds} s`,
            "TimeoutError",
          ),
        ),
      request.timeoutSeconds * 1000,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("error", fail);
    if (request.onBodyDone && request.compression !== "gzip") {
      const done = request.onBodyDone;
      // Written to the kernel in full: the socket holds no reference to the body any more.
      req.on("close", () => {
        if (req.writableFinished) done();
      });
    }
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < 65_536) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("error", fail);
      res.on("close", () => fail(new Error("The response was cut off before its end")));
      res.on("end", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const text = Buffer.concat(chunks).toString("utf8");
        const retryAfter = res.headers["retry-after"];
        resolve({
          status: res.statusCode ?? 0,
          text: text.length > 65_536 ? text.slice(0, 65_536) : text,
          retryAfterMs: parseRetryAfter(
            Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            request.now(),
          ),
        });
      });
    });
    req.end(body);
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("The request was aborted", "AbortError");
}

/** The outcome of a plain HTTP response (no per-item results). */
export function outcomeOfResponse(response: HttpResponse): SendOutcome {
  const detail = response.text.replace(/\s+/g, " ").trim().slice(0, 200);
  return outcomeOfStatus(response.status, detail, response.retryAfterMs);
}

/**
 * `path` under a base URL (`http://loki:3100` → `http://loki:3100/loki/api/v1/push`); a URL that
 * already ends with it (a trailing slash aside) is kept.
 *
 * @example
 * endpointUrl("http://es:9200/", "_bulk"); // "http://es:9200/_bulk"
 */
export function endpointUrl(base: string, path: string): string {
  const url = new URL(base);
  const trimmed = url.pathname.replace(/\/+$/, "");
  url.pathname = trimmed.endsWith(`/${path}`) ? trimmed : `${trimmed}/${path}`;
  return url.href;
}
