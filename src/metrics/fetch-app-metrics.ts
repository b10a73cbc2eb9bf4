import { ErrorCodes } from "../runtime/error-codes.ts";
import { describeError, isSidecarError } from "../runtime/errors.ts";
import type { HttpClient } from "../runtime/http/http-client.ts";

/** Why a scrape of the app failed, as the `reason` label of the error counter. */
export type ScrapeFailure =
  | "connect"
  | "timeout"
  | "status"
  | "too_large"
  | "malformed"
  | "series_limit";

export const scrapeFailures: readonly ScrapeFailure[] = [
  "connect",
  "timeout",
  "status",
  "too_large",
  "malformed",
  "series_limit",
];

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

const reasonByCode: Record<string, ScrapeFailure> = {
  [ErrorCodes.HTTP_TIMEOUT]: "timeout",
  [ErrorCodes.HTTP_TOO_LARGE]: "too_large",
};

/**
 * GETs the app's metrics endpoint through the shared HTTP client (its timeout, size limit,
 * auth and TLS); rejects with a ScrapeError whose reason is the error counter's label.
 */
export async function fetchAppMetrics(client: HttpClient, url: string): Promise<FetchedMetrics> {
  let response: Awaited<ReturnType<HttpClient["request"]>>;
  try {
    response = await client.request({
      url,
      headers: { accept: scrapeAccept, "user-agent": "sidecar-metrics" },
    });
  } catch (error) {
    const reason = (isSidecarError(error) && reasonByCode[error.code]) || "connect";
    throw new ScrapeError(reason, describeError(error));
  }
  if (response.status < 200 || response.status > 299)
    throw new ScrapeError("status", `the app's metrics endpoint answered ${response.status}`);
  return { contentType: String(response.headers["content-type"] ?? ""), body: response.text() };
}
