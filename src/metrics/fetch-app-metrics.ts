import { http, https } from "../runtime/builtins.ts";

/** Why a scrape of the app failed, as the `reason` label of the error counter. */
export type ScrapeFailure =
  | "connect"
  | "timeout"
  | "status"
  | "too_large"
  | "malformed"
  | "series_limit";

export class ScrapeError extends Error {
  readonly reason: ScrapeFailure;
  constructor(reason: ScrapeFailure, message: string) {
    super(message);
    this.name = "ScrapeError";
    this.reason = reason;
  }
}

/** What Prometheus sends: OpenMetrics preferred, the text format accepted. */
export const scrapeAccept =
  "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

export interface FetchedMetrics {
  contentType: string;
  body: string;
}

/**
 * GETs the app's metrics endpoint: rejects with a ScrapeError (connect, timeout, status,
 * too_large) rather than waiting past the timeout or reading past the size limit.
 */
export function fetchAppMetrics(
  url: string,
  { timeoutMs, maxBytes }: { timeoutMs: number; maxBytes: number },
): Promise<FetchedMetrics> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    const req = client.get(
      url,
      { headers: { accept: scrapeAccept, "user-agent": "sidecar-metrics" }, agent: false },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          return fail(new ScrapeError("status", `GET ${url} answered ${status}`));
        }
        const declared = Number(res.headers["content-length"]);
        if (declared > maxBytes)
          return fail(
            new ScrapeError("too_large", `body of ${declared} bytes is over ${maxBytes}`),
          );
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes)
            return fail(new ScrapeError("too_large", `body is over ${maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
        res.on("error", (error) => fail(new ScrapeError("connect", error.message)));
      },
    );
    const timer = setTimeout(
      () => fail(new ScrapeError("timeout", `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (error: NodeJS.ErrnoException) =>
      fail(new ScrapeError("connect", `GET ${url}: ${error.code ?? error.message}`)),
    );
    function fail(error: ScrapeError) {
      clearTimeout(timer);
      req.destroy();
      reject(error);
    }
  });
}
