import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { http } from "../builtins.ts";
import { type ListenAddress, parseAddress } from "../config/address.ts";
import { isLoopback, listenOn } from "../listen.ts";
import type { Role } from "../role.ts";
import type { Readiness } from "../supervisor.ts";
import type { MetricFamily } from "../telemetry/exposition/metric-family.ts";
import { sampleNames } from "../telemetry/exposition/metric-family.ts";
import {
  registryFamilies,
  registryFamilyHeads,
} from "../telemetry/exposition/registry-families.ts";
import {
  contentTypes,
  negotiateFormat,
  writeExposition,
} from "../telemetry/exposition/write-exposition.ts";
import type { Logger } from "../telemetry/logger.ts";
import { type AdminHandler, type AdminRoute, AdminRouteTable } from "./admin-router.ts";
import { refuseStateChange } from "./state-change-guard.ts";
import { renderStatusPage } from "./status-page.ts";

export interface AdminServerOptions {
  address: string;
  registry: Registry;
  logger: Logger;
  readiness: () => Readiness;
  /** Extra fields for /status (version, config hash, …). */
  status: () => Record<string, unknown>;
  /** Called once for an accepted POST /quitquitquit. */
  onQuit: () => void;
  /** Whether a client may call a POST endpoint such as /quitquitquit (default: loopback only). */
  isLocalClient?: (remoteAddress: string | undefined) => boolean;
  /** The roles' endpoints and panels; the server adds its own routes to it. */
  routes?: AdminRouteTable;
}

/**
 * The admin HTTP server: /healthz, /readyz, /metrics, /status and POST /quitquitquit.
 * It is the first role to start and the last to stop, so probes answer throughout.
 */
export class AdminServer implements Role {
  readonly name = "admin";
  readonly #options: AdminServerOptions;
  readonly #server: Server;
  readonly #routes: AdminRouteTable;
  #bound: ListenAddress | undefined;

  constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#routes = options.routes ?? new AdminRouteTable();
    const builtIn: [AdminRoute["method"], string, string, AdminHandler][] = [
      ["GET", "/", "this status page", (_req, res) => this.#page(res)],
      [
        "GET",
        "/healthz",
        "liveness: 200 while the event loop answers",
        (_req, res) => send(res, 200, "text/plain", "ok\n"),
      ],
      ["GET", "/readyz", "readiness of every role and the app", (_req, res) => this.#readyz(res)],
      [
        "GET",
        "/metrics",
        "Prometheus metrics of every role",
        (req, res) => this.#metrics(req, res),
      ],
      [
        "GET",
        "/status",
        "version, config hash and each role's state, as JSON",
        (_req, res) => this.#status(res),
      ],
      ["POST", "/quitquitquit", "graceful exit", (req, res) => this.#quit(req, res)],
    ];
    for (const [method, path, description, handle] of builtIn)
      this.#routes.route({ method, path, description, handle });
    this.#server = http.createServer(
      { requestTimeout: 10_000, headersTimeout: 5_000 },
      (req, res) => {
        this.#handle(req, res);
      },
    );
    this.#server.keepAliveTimeout = 5_000;
  }

  /** The bound address (with the real port when configured as 0). */
  get address(): ListenAddress | undefined {
    return this.#bound;
  }

  async start(): Promise<void> {
    const address = parseAddress(this.#options.address);
    if (!address) throw new TypeError(`Invalid admin address "${this.#options.address}"`);
    this.#bound = await listenOn(this.#server, address, "Admin server");
    this.#options.logger.info(
      { address: `http://${this.#options.address.replace(/:\d+$/, `:${this.#bound.port}`)}` },
      "admin server listening",
    );
  }

  ready(): boolean {
    return this.#bound !== undefined;
  }

  stop(deadline: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      const onAbort = () => this.#server.closeAllConnections();
      deadline.addEventListener("abort", onAbort, { once: true });
      this.#server.close(() => {
        deadline.removeEventListener("abort", onAbort);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!;
    const route = this.#routes.find(path);
    if (!route) {
      sendJson(res, 404, { error: "not_found", message: `No admin endpoint ${path}` });
      return;
    }
    const allowed = route.method === "GET" ? ["GET", "HEAD"] : [route.method];
    if (!allowed.includes(req.method ?? "")) {
      res.setHeader("Allow", allowed.join(", "));
      sendJson(res, 405, {
        error: "method_not_allowed",
        message: `${path} accepts ${allowed.join(", ")}`,
      });
      return;
    }
    if (route.method !== "GET") {
      const refused = refuseStateChange(req, this.#options.isLocalClient ?? isLoopback);
      if (refused) {
        this.#options.logger.warn(
          { client: req.socket.remoteAddress, path, reason: refused.reason },
          `refused ${path}: ${refused.reason === "cross_site" ? "a browser request" : "a non-loopback client"}`,
        );
        req.resume();
        sendJson(res, 403, { error: "forbidden", message: refused.message });
        return;
      }
    }
    Promise.resolve(route.handle(req, res)).catch((error: unknown) => {
      this.#options.logger.error({ error, path }, "admin endpoint failed");
      if (!res.headersSent)
        sendJson(res, 500, { error: "internal", message: "admin endpoint failed" });
      else res.destroy();
    });
  }

  #readyz(res: ServerResponse): void {
    const readiness = this.#options.readiness();
    const notReady = readiness.roles
      .filter((role) => !role.ready)
      .map(({ name, reason }) => ({ name, reason }));
    // A ready role may still say something is wrong (a kept-back config version): shown, not failed.
    const warnings = readiness.roles
      .filter((role) => role.ready && role.reason)
      .map(({ name, reason }) => ({ name, reason }));
    const body = readiness.ready
      ? { ready: true, ...(warnings.length ? { warnings } : {}) }
      : { ready: false, draining: readiness.draining, notReady };
    sendJson(res, readiness.ready ? 200 : 503, body);
  }

  /**
   * The registry's families, then each metrics source's, in the format the Accept header asks
   * for. A source family that reuses a sample name already served is left out (the registry's
   * and earlier sources' win), so the output never has two families of one name.
   */
  async #metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const format = negotiateFormat(req.headers.accept);
    const { registry } = this.#options;
    const taken = new Set<string>();
    for (const head of registryFamilyHeads(registry))
      for (const name of sampleNames(head)) taken.add(name);
    // Sources first: a source may update the registry's figures about itself (scrape health).
    const extra: MetricFamily[] = [];
    for (const source of this.#routes.metricsSources) {
      let families: MetricFamily[];
      try {
        families = await source.collect(taken);
      } catch (error) {
        this.#options.logger.error({ error, source: source.name }, "metrics source failed");
        continue;
      }
      for (const family of families) {
        const names = sampleNames(family);
        if (names.some((name) => taken.has(name))) continue;
        for (const name of names) taken.add(name);
        extra.push(family);
      }
    }
    const own = await registryFamilies(registry);
    send(res, 200, contentTypes[format], writeExposition([...own, ...extra], format));
  }

  async #page(res: ServerResponse): Promise<void> {
    const readiness = this.#options.readiness();
    const status = this.#options.status() as {
      version?: string;
      uptimeSeconds?: number;
      config?: { path: string | null; hash: string };
    };
    const panels = await Promise.all(
      this.#routes.panels.map(async (panel) => {
        try {
          return { role: panel.role, figures: await panel.figures() };
        } catch (error) {
          this.#options.logger.warn({ role: panel.role, error }, "status panel failed");
          return {
            role: panel.role,
            figures: [{ label: "panel", value: "unavailable", warn: true }],
          };
        }
      }),
    );
    const html = renderStatusPage({
      version: status.version ?? "",
      uptimeSeconds: status.uptimeSeconds ?? 0,
      config: status.config ?? { path: null, hash: "" },
      ready: readiness.ready,
      draining: readiness.draining,
      roles: readiness.roles,
      panels,
      endpoints: this.#routes.routes.map(({ method, path, description }) => ({
        method,
        path,
        description,
      })),
      refreshSeconds: 5,
    });
    // No script, no external asset, no framing: the page is inert whatever a value holds.
    res.setHeader(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    res.setHeader("x-content-type-options", "nosniff");
    send(res, 200, "text/html; charset=utf-8", html);
  }

  #status(res: ServerResponse): void {
    const readiness = this.#options.readiness();
    sendJson(res, 200, {
      ...this.#options.status(),
      ready: readiness.ready,
      draining: readiness.draining,
      roles: readiness.roles,
    });
  }

  #quit(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    sendJson(res, 202, { quitting: true });
    this.#options.logger.info("graceful exit requested through /quitquitquit");
    this.#options.onQuit();
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json", `${JSON.stringify(value)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
