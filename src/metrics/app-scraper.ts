import type { Clock } from "../runtime/clock.ts";
import { HttpClient, redactUrl } from "../runtime/http/http-client.ts";
import type { MetricFamily } from "../runtime/telemetry/exposition/metric-family.ts";
import { sampleNames } from "../runtime/telemetry/exposition/metric-family.ts";
import {
  ExpositionParseError,
  parseExposition,
} from "../runtime/telemetry/exposition/parse-exposition.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import { Counter, Gauge, type Registry } from "../runtime/telemetry/metrics-registry.ts";
import {
  type FetchedMetrics,
  fetchAppMetrics,
  ScrapeError,
  scrapeFailures,
} from "./fetch-app-metrics.ts";
import { addLabels, countSeries, type MergeRules, selectFamilies } from "./merge.ts";
import type { MetricsConfig } from "./metrics-config.ts";

type Outcome =
  | { ok: true; families: MetricFamily[]; series: number; at: number }
  | { ok: false; error: ScrapeError; at: number };

export interface AppScraperOptions {
  registry: Registry;
  logger: Logger;
  clock: Clock;
  env?: Record<string, string | undefined>;
}

/**
 * Scrapes the app's metrics endpoint when the sidecar's /metrics is scraped: one request at a
 * time (concurrent scrapes share it) and a short cache. A failed scrape never fails the
 * sidecar's: the app's series are left out and sidecar_app_scrape_up reads 0.
 */
export class AppScraper {
  readonly #config: MetricsConfig;
  readonly #options: AppScraperOptions;
  readonly #rules: MergeRules;
  readonly #client: HttpClient;
  readonly #up: Gauge;
  readonly #duration: Gauge;
  readonly #series: Gauge;
  readonly #errors: Counter;
  readonly #clashes: Counter;
  #last: Outcome | undefined;
  #inFlight: Promise<Outcome> | undefined;
  #lastErrorLogged: string | undefined;

  constructor(config: MetricsConfig, options: AppScraperOptions) {
    this.#config = config;
    this.#options = options;
    this.#client = new HttpClient(config);
    const env = options.env ?? process.env;
    const labels: Record<string, string> = { ...config.labels };
    for (const [label, variable] of Object.entries(config.labelsFromEnv)) {
      const value = env[variable];
      if (value === undefined)
        options.logger.warn(
          { variable, label },
          `Environment variable "${variable}" is not set: label left out`,
        );
      else labels[label] = value;
    }
    this.#rules = {
      keep: config.keep.map((r) => new RegExp(r)),
      drop: config.drop.map((r) => new RegExp(r)),
      labels,
    };
    const registers = [options.registry];
    this.#up = new Gauge({
      name: "sidecar_app_scrape_up",
      help: "Whether the last scrape of the app's metrics endpoint succeeded (1) or not (0).",
      registers,
    });
    this.#duration = new Gauge({
      name: "sidecar_app_scrape_duration_seconds",
      help: "How long the last scrape of the app's metrics took.",
      registers,
    });
    this.#series = new Gauge({
      name: "sidecar_app_scrape_series",
      help: "Series the app's last successful scrape gave, after keep and drop.",
      registers,
    });
    this.#errors = new Counter({
      name: "sidecar_app_scrape_errors_total",
      help: "Failed scrapes of the app's metrics, by reason (connect, timeout, status, too_large, malformed, series_limit).",
      labelNames: ["reason"],
      registers,
    });
    this.#clashes = new Counter({
      name: "sidecar_app_scrape_clashes_total",
      help: "App metric families left out because the sidecar serves a family of the same name.",
      registers,
    });
    for (const reason of scrapeFailures) this.#errors.inc({ reason }, 0);
  }

  /** Closes the HTTP client's keep-alive connections to the app. */
  close(): void {
    this.#client.close();
  }

  /** The last outcome, for the status page. */
  get last(): { up: boolean; error?: string; series?: number; at?: number } {
    const last = this.#last;
    if (!last) return { up: false, error: "not scraped yet" };
    return last.ok
      ? { up: true, series: last.series, at: last.at }
      : { up: false, error: last.error.message, at: last.at };
  }

  /** The app's families for this scrape, minus those whose names the sidecar already serves. */
  async collect(taken: ReadonlySet<string>): Promise<MetricFamily[]> {
    const outcome = await this.#outcome();
    if (!outcome.ok) return [];
    const served: MetricFamily[] = [];
    for (const family of outcome.families) {
      if (sampleNames(family).some((name) => taken.has(name))) this.#clashes.inc();
      else served.push(family);
    }
    return served;
  }

  #outcome(): Promise<Outcome> {
    const now = this.#options.clock.now();
    const last = this.#last;
    if (last && now - last.at < this.#config.cacheSeconds * 1000) return Promise.resolve(last);
    this.#inFlight ??= this.#scrape().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #scrape(): Promise<Outcome> {
    const { clock, logger } = this.#options;
    const started = performance.now();
    let outcome: Outcome;
    try {
      const fetched = await fetchAppMetrics(this.#client, this.#config.url);
      const families = this.#process(fetched);
      outcome = { ok: true, families, series: countSeries(families), at: clock.now() };
    } catch (error) {
      const scrapeError =
        error instanceof ScrapeError ? error : new ScrapeError("connect", String(error));
      outcome = { ok: false, error: scrapeError, at: clock.now() };
    }
    this.#duration.set((performance.now() - started) / 1000);
    this.#up.set(outcome.ok ? 1 : 0);
    if (outcome.ok) {
      this.#series.set(outcome.series);
      if (this.#lastErrorLogged !== undefined) logger.info("app metrics scrape recovered");
      this.#lastErrorLogged = undefined;
    } else {
      this.#errors.inc({ reason: outcome.error.reason });
      if (this.#lastErrorLogged !== outcome.error.message)
        logger.warn(
          {
            url: redactUrl(this.#config.url),
            reason: outcome.error.reason,
            error: outcome.error.message,
          },
          "app metrics scrape failed; serving the sidecar's own metrics only",
        );
      this.#lastErrorLogged = outcome.error.message;
    }
    this.#last = outcome;
    return outcome;
  }

  #process(fetched: FetchedMetrics): MetricFamily[] {
    let families: MetricFamily[];
    try {
      families = parseExposition(fetched.body, {
        format: /application\/openmetrics-text/i.test(fetched.contentType) ? "openmetrics" : "text",
      });
    } catch (error) {
      if (error instanceof ExpositionParseError) throw new ScrapeError("malformed", error.message);
      throw error;
    }
    families = selectFamilies(families, this.#rules);
    const series = countSeries(families);
    if (this.#config.maxSeries > 0 && series > this.#config.maxSeries)
      throw new ScrapeError(
        "series_limit",
        `${series} series, over the limit of ${this.#config.maxSeries}`,
      );
    addLabels(families, this.#rules.labels);
    return families;
  }
}
