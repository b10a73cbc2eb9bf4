import type { IncomingMessage, ServerResponse } from "node:http";

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

/** What roles use to add admin endpoints and their status-page panel. */
export interface AdminRouter {
  /** Adds an endpoint; a path taken twice is a programming error (TypeError). */
  route(route: AdminRoute): void;
  /** Adds the role's panel to the status page. */
  panel(panel: StatusPanel): void;
}

/** The admin server's table of routes and panels; roles see it as an AdminRouter. */
export class AdminRouteTable implements AdminRouter {
  readonly #routes = new Map<string, AdminRoute>();
  readonly #panels: StatusPanel[] = [];

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

  find(path: string): AdminRoute | undefined {
    return this.#routes.get(path);
  }

  get routes(): readonly AdminRoute[] {
    return [...this.#routes.values()];
  }

  get panels(): readonly StatusPanel[] {
    return this.#panels;
  }
}
