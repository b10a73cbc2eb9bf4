import { http, https } from "../../runtime/builtins.ts";
import type { Endpoint } from "./endpoint.ts";

export interface HealthCheckOptions {
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

/** One HTTP GET to `path`; true on a 2xx status within the timeout. */
export function probeEndpoint(
  endpoint: Endpoint,
  path: string,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (endpoint.tls ? https : http).request({
      ...endpoint.tls,
      host: endpoint.host,
      port: endpoint.port,
      path,
      method: "GET",
      headers: { "user-agent": "sidecar-health-check", connection: "close" },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error("health check timed out")), timeoutMs);
    req.once("response", (res) => {
      res.resume();
      clearTimeout(timer);
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
    });
    req.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    req.end();
  });
}

/**
 * Active health checking: every interval each endpoint is probed; unhealthyThreshold failures
 * in a row mark it unhealthy, healthyThreshold successes healthy again.
 */
export class HealthChecker {
  readonly #options: HealthCheckOptions;
  readonly #endpoints: () => readonly Endpoint[];
  readonly #streaks = new WeakMap<Endpoint, number>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: HealthCheckOptions, endpoints: () => readonly Endpoint[]) {
    this.#options = options;
    this.#endpoints = endpoints;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.checkAll(), this.#options.intervalSeconds * 1000);
    this.#timer.unref();
    void this.checkAll();
  }

  async checkAll(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await Promise.all(this.#endpoints().map((e) => this.#check(e)));
    } finally {
      this.#running = false;
    }
  }

  async #check(endpoint: Endpoint): Promise<void> {
    const ok = await probeEndpoint(
      endpoint,
      this.#options.path,
      this.#options.timeoutSeconds * 1000,
    );
    // streak > 0 counts successes in a row, < 0 failures in a row.
    const streak = this.#streaks.get(endpoint) ?? 0;
    const next = ok ? Math.max(streak, 0) + 1 : Math.min(streak, 0) - 1;
    this.#streaks.set(endpoint, next);
    if (ok && !endpoint.healthy && next >= this.#options.healthyThreshold) endpoint.healthy = true;
    if (!ok && endpoint.healthy && -next >= this.#options.unhealthyThreshold)
      endpoint.healthy = false;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
