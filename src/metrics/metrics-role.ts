import { redactUrl } from "../runtime/http/http-client.ts";
import type { Role } from "../runtime/role.ts";
import type { RoleContext } from "../runtime/role-definition.ts";
import { AppScraper } from "./app-scraper.ts";
import type { MetricsConfig } from "./metrics-config.ts";

export interface MetricsRole extends Role {
  readonly scraper: AppScraper;
}

/**
 * Metrics merge: the app's Prometheus metrics served on the sidecar's /metrics with the
 * sidecar's own, scraped when /metrics is (see AppScraper), in the format the scraper asks for.
 */
export function createMetricsRole(config: MetricsConfig, ctx: RoleContext): MetricsRole {
  const scraper = new AppScraper(config, {
    registry: ctx.registry,
    logger: ctx.logger,
    clock: ctx.clock,
  });
  ctx.admin.metrics({ name: "app", collect: (taken) => scraper.collect(taken) });
  ctx.admin.panel({
    role: "metrics",
    figures: () => {
      const last = scraper.last;
      return [
        { label: "app endpoint", value: redactUrl(config.url) },
        { label: "app scrape", value: last.up ? "up" : `down: ${last.error}`, warn: !last.up },
        { label: "app series", value: String(last.series ?? 0) },
      ];
    },
  });
  let running = false;
  return {
    name: "metrics",
    scraper,
    async start() {
      running = true;
    },
    ready: () => running,
    async stop() {
      running = false;
      scraper.close();
    },
  };
}
