import { Backoff } from "../../runtime/backoff.ts";
import type { Clock } from "../../runtime/clock.ts";
import { describeError, SidecarError } from "../../runtime/errors.ts";
import { HttpClient, type HttpClientResponse, redactUrl } from "../../runtime/http/http-client.ts";
import { ConfigErrorCodes } from "../error-codes.ts";
import type { HttpNotifyConfig } from "./notify-config.ts";
import type { NotifyTarget, NotifyVersion } from "./notify-target.ts";

/**
 * Sends an HTTP request (like Prometheus' `POST /-/reload`) with the version in the
 * `Sidecar-Config-Version` header, and retries with backoff while the app does not answer with
 * an expected status: an app still starting is told once it listens.
 */
export class HttpNotifyTarget implements NotifyTarget {
  readonly kind = "http";
  readonly describe: string;
  readonly #config: HttpNotifyConfig;
  readonly #clock: Clock;
  readonly #client: HttpClient;

  constructor(config: HttpNotifyConfig, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
    this.#client = new HttpClient({ timeoutSeconds: config.timeoutSeconds });
    this.describe = `${config.method} ${redactUrl(config.url)}`;
  }

  #expected(status: number): boolean {
    const expect = this.#config.expectStatus;
    return expect ? expect.includes(status) : status >= 200 && status < 300;
  }

  async send(version: NotifyVersion, superseded: AbortSignal): Promise<void> {
    const { retry } = this.#config;
    const backoff = new Backoff({
      initialMs: retry.initialSeconds * 1000,
      maxMs: retry.maxSeconds * 1000,
    });
    const giveUpAt = this.#clock.now() + retry.giveUpAfterSeconds * 1000;
    for (;;) {
      let response: HttpClientResponse | undefined;
      let problem: string;
      try {
        response = await this.#client.request({
          url: this.#config.url,
          method: this.#config.method,
          headers: { ...this.#config.headers, "sidecar-config-version": version.hash },
        });
        if (this.#expected(response.status)) return;
        problem = `status ${response.status}`;
      } catch (error) {
        problem = describeError(error);
      }
      const delay = backoff.next(response?.retryAfterMs);
      if (this.#clock.now() + delay > giveUpAt)
        throw new SidecarError(
          ConfigErrorCodes.NOTIFY,
          `Notifying ${this.describe} gave up after ${backoff.attempt} attempts: ${problem}`,
        );
      await this.#clock.sleep(delay, superseded);
    }
  }

  close(): void {
    this.#client.close();
  }
}
