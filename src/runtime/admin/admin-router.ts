import type { IncomingMessage, ServerResponse } from "node:http";
import type { MetricFamily } from "../telemetry/exposition/metric-family.ts";

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** One admin endpoint. GET routes answer HEAD too; state-changing routes must be POST. */
export interface AdminRoute {
  method: "GET" | "POST";
  /** An exact path, e.g. `/config` or `/sync/status`. */
  path: string;
  /** One line for the status page's list of endpoints. */
  description: string;
  handle: AdminHandler;
}

/** One key figure on a role's status-page panel, e.g. `{ label: "requests/s", value: "12.5" }`. */
export interface PanelFigure {
  label: string;
  value: string;
  /** Marks a figure that needs attention (errors, lag); the page highlights it. */
  warn?: boolean;
}

/** A role's panel on the status page: a few figures, fed by the same numbers as /metrics. */
export interface StatusPanel {
  /** The role it belongs to (its name). */
  role: string;
  /** Figures now; called at each page render, so keep it cheap. Never include a secret. */
  figures(): PanelFigure[] | Promise<PanelFigure[]>;
}

/**
 * Families a role adds to /metrics beyond the registry (the app's metrics it merges, node
 * metrics), collected at each scrape and written in the format the scraper negotiated.
 */
export interface MetricsSource {
  /** Names the source in logs. */
  name: string;
  /**
   * The families now. `taken` holds every sample name the registry (and any source before this
   * one) already serves; a family using one of them is left out by the admin server, so a
   * source that counts such clashes checks here. A rejection is logged and the scrape goes on.
   */
  collect(taken: ReadonlySet<string>): MetricFamily[] | Promise<MetricFamily[]>;
}

/** What roles use to add admin endpoints and their status-page panel. */
export interface AdminRouter {
  /** Adds an endpoint; a path taken twice is a programming error (TypeError). */
  route(route: AdminRoute): void;
  /** Adds the role's panel to the status page. */
  panel(panel: StatusPanel): void;
  /** Adds families to /metrics, collected at scrape time. */
  metrics(source: MetricsSource): void;
}

/** The admin server's table of routes and panels; roles see it as an AdminRouter. */
export class AdminRouteTable implements AdminRouter {
  readonly #routes = new Map<string, AdminRoute>();
  readonly #panels: StatusPanel[] = [];
  readonly #metricsSources: MetricsSource[] = [];

  route(route: AdminRoute): void {
    if (!route.path.startsWith("/"))
      throw new TypeError(`Admin path "${route.path}" must start with /`);
    if (this.#routes.has(route.path))
      throw new TypeError(`Admin path "${route.path}" is registered twice`);
    this.#routes.set(route.path, route);
  }

  panel(panel: StatusPanel): void {
    this.#panels.push(panel);
  }

  metrics(source: MetricsSource): void {
    this.#metricsSources.push(source);
  }

  find(path: string): AdminRoute | undefined {
    return this.#routes.get(path);
  }

  get routes(): readonly AdminRoute[] {
    return [...this.#routes.values()];
  }

  get panels(): readonly StatusPanel[] {
    return this.#panels;
  }

  get metricsSources(): readonly MetricsSource[] {
    return this.#metricsSources;
  }
}
