import { connect } from "node:net";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { http } from "../builtins.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { HealthProbeConfig } from "./app-config.ts";

export interface ProbeResult {
  ok: boolean;
  error?: string;
}

/** One probe attempt; resolves (never rejects) with whether it passed and why not. */
export function probeOnce(config: HealthProbeConfig): Promise<ProbeResult> {
  const timeoutMs = config.timeoutSeconds * 1000;
  return config.type === "http"
    ? probeHttp(config, timeoutMs)
    : probeTcp(config.host, config.port, timeoutMs);
}

function probeHttp(
  config: Extract<HealthProbeConfig, { type: "http" }>,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: config.host,
        port: config.port,
        path: config.path,
        method: "GET",
        agent: false,
        timeout: timeoutMs,
        headers: { "user-agent": "sidecar-probe" },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        const ok = statusMatches(status, config.expectStatus);
        resolve(
          ok
            ? { ok }
            : {
                ok,
                error: `GET ${config.path} answered ${status}, expected ${config.expectStatus}`,
              },
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error: NodeJS.ErrnoException) =>
      resolve({
        ok: false,
        error: `GET http://${config.host}:${config.port}${config.path}: ${error.code ?? error.message}`,
      }),
    );
    req.end();
  });
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once("timeout", () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: `TCP ${host}:${port}: ${error.code ?? error.message}` }),
    );
  });
}

export function statusMatches(status: number, expected: number | string): boolean {
  return typeof expected === "number" ? status === expected : String(status)[0] === expected[0];
}

export interface HealthProbeOptions {
  registry: Registry;
  logger: Logger;
  /** Called when the app goes up or down. */
  onChange?: (up: boolean) => void;
}

/**
 * Probes the app on an interval: `failureThreshold` failures in a row mark it down,
 * `successThreshold` successes mark it up. Exposes sidecar_app_up,
 * sidecar_app_probe_duration_seconds and sidecar_app_probe_failures_total.
 */
export class HealthProbe {
  readonly #config: HealthProbeConfig;
  readonly #options: HealthProbeOptions;
  readonly #up: Gauge;
  readonly #duration: Histogram;
  readonly #failures: Counter;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #isUp = false;
  #successes = 0;
  #failuresInRow = 0;
  #lastError: string | undefined = "not probed yet";
  #waiters = new Set<() => void>();

  constructor(config: HealthProbeConfig, options: HealthProbeOptions) {
    this.#config = config;
    this.#options = options;
    const registers = [options.registry];
    this.#up = getOrCreate(
      options.registry,
      "sidecar_app_up",
      () =>
        new Gauge({
          name: "sidecar_app_up",
          help: "Whether the app passes its health probe (1) or not (0).",
          registers,
        }),
    );
    this.#duration = getOrCreate(
      options.registry,
      "sidecar_app_probe_duration_seconds",
      () =>
        new Histogram({
          name: "sidecar_app_probe_duration_seconds",
          help: "Duration of the app's health probes.",
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers,
        }),
    );
    this.#failures = getOrCreate(
      options.registry,
      "sidecar_app_probe_failures_total",
      () =>
        new Counter({
          name: "sidecar_app_probe_failures_total",
          help: "Failed health probes of the app.",
          registers,
        }),
    );
    this.#up.set(0);
  }

  get up(): boolean {
    return this.#isUp;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Starts probing at once, then every intervalSeconds. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#tick();
  }

  /** Stops probing and marks the app down (it is stopping or gone). */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#setUp(false);
    this.#successes = 0;
    this.#failuresInRow = 0;
    this.#lastError = "not probed yet";
  }

  /** Resolves when the app is up, or when `signal` aborts (then with false). */
  waitUntilUp(signal: AbortSignal): Promise<boolean> {
    if (this.#isUp) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(onUp);
        signal.removeEventListener("abort", onAbort);
      };
      const onUp = () => {
        done();
        resolve(true);
      };
      const onAbort = () => {
        done();
        resolve(false);
      };
      if (signal.aborted) return resolve(false);
      this.#waiters.add(onUp);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #tick(): Promise<void> {
    const started = performance.now();
    const result = await probeOnce(this.#config);
    if (!this.#running) return;
    this.#duration.observe((performance.now() - started) / 1000);
    if (result.ok) {
      this.#failuresInRow = 0;
      this.#successes++;
      this.#lastError = undefined;
      if (this.#successes >= this.#config.successThreshold) this.#setUp(true);
    } else {
      this.#failures.inc();
      this.#successes = 0;
      this.#failuresInRow++;
      this.#lastError = result.error;
      // Before the first success the app is starting: it is down already, so no threshold applies.
      if (this.#failuresInRow >= this.#config.failureThreshold) this.#setUp(false);
    }
    this.#timer = setTimeout(() => void this.#tick(), this.#config.intervalSeconds * 1000);
  }

  #setUp(up: boolean): void {
    if (up === this.#isUp) return;
    this.#isUp = up;
    this.#up.set(up ? 1 : 0);
    if (this.#running)
      this.#options.logger[up ? "info" : "warn"](
        { error: up ? undefined : this.#lastError },
        up ? "app is up" : "app is down",
      );
    this.#options.onChange?.(up);
    if (up) for (const waiter of [...this.#waiters]) waiter();
  }
}

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
