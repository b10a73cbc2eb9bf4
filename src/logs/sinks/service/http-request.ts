import { z } from "zod";
import { http, https, util, zlib } from "../../../runtime/builtins.ts";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import {
  authorizationHeader,
  createHttpAgents,
  type HttpAgents,
  type HttpAuth,
  type HttpTls,
  httpAuthSchema,
  httpTlsSchema,
  takeUrlCredentials,
} from "../../../runtime/http/http-client.ts";
import { parseRetryAfter } from "../../../runtime/retry-after.ts";
import { LogsSinkErrorCodes } from "../error-codes.ts";
import { outcomeOfStatus, type SendOutcome } from "./send-outcome.ts";

const gzipAsync = (body: string | Buffer): Promise<Buffer> => util.promisify(zlib.gzip)(body);

/** The options every HTTP-based sink shares (auth and TLS are the runtime HTTP client's). */
export const httpShape = {
  /** Extra request headers (e.g. an API key); values are never logged. */
  headers: z.record(z.string().min(1), z.string()).default({}),
  auth: httpAuthSchema.optional(),
  /** gzip the request body (Content-Encoding: gzip). */
  compression: z.enum(["none", "gzip"]).default("none"),
  /** One request may take this long before it counts as a retryable failure. */
  timeoutSeconds: seconds(10, { min: 0.001 }),
  /** TLS for https URLs: CA bundle, client certificate, server name, or no verification (tests only). */
  tls: httpTlsSchema.optional(),
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

/**
 * Keep-alive connection pools, one per sink (pass the same one to every request of a sink); an
 * unreadable TLS file fails with SIDECAR_ERR_LOGS_SINK_TLS_CA, the code the logs docs name.
 */
export function createSinkAgents(maxSockets: number, tls: HttpTls | undefined): HttpAgents {
  return createHttpAgents({ maxSockets, tls, tlsFileErrorCode: LogsSinkErrorCodes.TLS_CA });
}

/**
 * Sends one request over a keep-alive pool (node:http/https: for large bodies it is several times
 * faster than fetch here). Connection errors and timeouts throw (the batched service treats a
 * throw as retryable).
 */
export async function sendHttp(
  request: HttpRequest,
  agents: Pick<HttpAgents, "http" | "https">,
): Promise<HttpResponse> {
  const headers: Record<string, string> = {
    ...request.headers,
    "content-type": request.contentType,
  };
  const url = new URL(request.url);
  // Credentials in the URL become a Basic Authorization header (never part of a logged URL).
  const auth = takeUrlCredentials(url, request.auth);
  if (auth) {
    const value = authorizationHeader(auth);
    headers.authorization = typeof value === "string" ? value : await value;
  }
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
