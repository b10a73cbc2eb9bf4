import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { http, https } from "../builtins.ts";
import { seconds } from "../config/schema-helpers.ts";
import { ErrorCodes } from "../error-codes.ts";
import { describeError, SidecarError } from "../errors.ts";
import { parseRetryAfter } from "../retry-after.ts";
import { createHttpAgents, type HttpAgents, type HttpTls, httpTlsSchema } from "./http-agents.ts";
import {
  authorizationHeader,
  type HttpAuth,
  httpAuthSchema,
  redactUrl,
  takeUrlCredentials,
} from "./http-auth.ts";

export { createHttpAgents, type HttpAgents, type HttpTls, httpTlsSchema } from "./http-agents.ts";
export {
  authorizationHeader,
  type HttpAuth,
  httpAuthSchema,
  redactUrl,
  takeUrlCredentials,
} from "./http-auth.ts";

/** What a role spreads into its own strict schema for an HTTP endpoint it calls. */
export const httpClientShape = {
  /** Extra request headers (e.g. an API key); values are never logged. */
  headers: z.record(z.string().min(1), z.string()).default({}),
  auth: httpAuthSchema.optional(),
  /** The whole exchange (connect, send, the full response) may take this long. */
  timeoutSeconds: seconds(10, { min: 0.001 }),
  tls: httpTlsSchema.optional(),
  /** A response body larger than this fails with SIDECAR_ERR_HTTP_TOO_LARGE. */
  maxResponseBytes: z
    .number()
    .int()
    .min(1)
    .default(1024 * 1024),
};

export interface HttpClientOptions {
  /** Sent with every request (a request's own headers win). */
  headers?: Record<string, string>;
  auth?: HttpAuth | undefined;
  /** Default 10. */
  timeoutSeconds?: number;
  tls?: HttpTls | undefined;
  /** Default 1 MiB. */
  maxResponseBytes?: number;
  /** Connections per origin; default unlimited. */
  maxSockets?: number;
}

export interface HttpClientRequest {
  url: string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutSeconds?: number;
  signal?: AbortSignal;
  maxResponseBytes?: number;
}

export interface HttpClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8. */
  text(): string;
  /** The response's Retry-After as milliseconds from now, if any. */
  retryAfterMs: number | undefined;
}

/**
 * The HTTP client every role uses for the endpoints it calls (a config source, a metrics remote,
 * a sync origin): keep-alive pools over node:http/https, TLS (CA, client certificate, SNI),
 * basic or bearer auth (a token file re-read on each request), a timeout per request and a
 * limit on the response size. Credentials never appear in errors or logs: URLs are shown
 * redacted and userinfo becomes an Authorization header. Non-2xx statuses resolve; retries are
 * the caller's (with runtime/backoff.ts).
 *
 * @example
 * const client = new HttpClient({ auth: { type: "bearer", tokenFile: "/var/run/secrets/token" } });
 * const response = await client.request({ url: "https://config.internal/app.yaml" });
 * if (response.status === 200) use(response.text());
 * client.close();
 */
export class HttpClient {
  readonly #headers: Record<string, string>;
  readonly #auth: HttpAuth | undefined;
  readonly #timeoutSeconds: number;
  readonly #maxResponseBytes: number;
  readonly #agents: HttpAgents;
  readonly #now: () => number;

  constructor(options: HttpClientOptions, deps: { now?: () => number } = {}) {
    this.#headers = options.headers ?? {};
    this.#auth = options.auth;
    this.#timeoutSeconds = options.timeoutSeconds ?? 10;
    this.#maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.#agents = createHttpAgents({
      ...(options.maxSockets === undefined ? {} : { maxSockets: options.maxSockets }),
      tls: options.tls,
    });
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Sends one request and reads the whole response. Rejects with SIDECAR_ERR_HTTP_TIMEOUT,
   * SIDECAR_ERR_HTTP_TOO_LARGE, SIDECAR_ERR_HTTP_CONNECT (connection or TLS failure),
   * SIDECAR_ERR_HTTP_TOKEN_FILE, or the abort reason when `signal` aborts.
   */
  async request(req: HttpClientRequest): Promise<HttpClientResponse> {
    const { signal } = req;
    signal?.throwIfAborted();
    const url = new URL(req.url);
    const auth = takeUrlCredentials(url, this.#auth);
    const headers: Record<string, string> = { ...this.#headers, ...req.headers };
    if (auth && !Object.keys(headers).some((name) => name.toLowerCase() === "authorization"))
      headers.authorization = await authorizationHeader(auth);
    signal?.throwIfAborted();
    const body = typeof req.body === "string" ? Buffer.from(req.body) : req.body;
    if (body) headers["content-length"] = String(body.length);
    const timeoutSeconds = req.timeoutSeconds ?? this.#timeoutSeconds;
    const limit = req.maxResponseBytes ?? this.#maxResponseBytes;
    const shown = redactUrl(url.href);
    const secure = url.protocol === "https:";
    if (!secure && url.protocol !== "http:")
      throw new TypeError(`Expected an http:// or https:// URL, got "${shown}"`);

    return new Promise<HttpClientResponse>((resolve, reject) => {
      const request = (secure ? https.request : http.request)(url, {
        method: (req.method ?? "GET").toUpperCase(),
        headers,
        agent: secure ? this.#agents.https : this.#agents.http,
      });
      let settled = false;
      const finish = (error: Error | undefined, response?: HttpClientResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(response!);
      };
      const onAbort = () => finish(abortReason(signal!));
      const timer = setTimeout(
        () =>
          finish(
            new SidecarError(
              ErrorCodes.HTTP_TIMEOUT,
              `HTTP request to "${shown}" timed out after ${timeoutSeconds} s`,
            ),
          ),
        timeoutSeconds * 1000,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      const failed = (error: Error) =>
        finish(
          new SidecarError(
            ErrorCodes.HTTP_CONNECT,
            `HTTP request to "${shown}" failed: ${describeError(error)}`,
            { cause: error },
          ),
        );
      const tooLarge = () =>
        finish(
          new SidecarError(
            ErrorCodes.HTTP_TOO_LARGE,
            `HTTP response from "${shown}" is larger than ${limit} bytes`,
          ),
        );
      request.on("error", failed);
      request.on("response", (res) => {
        if (Number(res.headers["content-length"]) > limit) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) return tooLarge();
          chunks.push(chunk);
        });
        res.on("error", failed);
        res.on("close", () => failed(new Error("the response was cut off before its end")));
        res.on("end", () => {
          const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
          const retryAfter = res.headers["retry-after"];
          finish(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: data,
            text: () => data.toString("utf8"),
            retryAfterMs: parseRetryAfter(
              Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
              this.#now(),
            ),
          });
        });
      });
      request.end(body);
    });
  }

  /** Destroys the keep-alive pools (requests in flight fail). */
  close(): void {
    this.#agents.destroy();
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("The request was aborted", "AbortError");
}
