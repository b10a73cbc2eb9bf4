import { lookup } from "node:dns/promises";
import type { ConnectionOptions } from "node:tls";
import { parseAddress } from "../../runtime/config/address.ts";
import { describeError } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import { ProxyErrorCodes } from "../error-codes.ts";
import type { ClusterConfig } from "../proxy-config.ts";
import { Endpoint } from "./endpoint.ts";
import { HealthChecker } from "./health-checker.ts";
import { createLoadBalancer, type LoadBalancer } from "./load-balancer.ts";
import { OutlierDetector } from "./outlier-detector.ts";
import { endpointTlsOptions, upstreamTlsOptions } from "./upstream-tls.ts";

export interface ClusterOptions {
  logger: Logger;
  now?: () => number;
  onEject?: (endpoint: Endpoint, seconds: number) => void;
  /** Resolves a name to addresses (dns clusters); replaceable in tests. */
  resolve?: (host: string) => Promise<string[]>;
}

async function resolveAll(host: string): Promise<string[]> {
  const found = await lookup(host, { all: true });
  return found.map((a) => a.address);
}

/**
 * A named upstream: its endpoints (static, or re-resolved from DNS names), load balancer,
 * outlier detection, active health checks, concurrency limit and retry budget.
 */
export class Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  /** Requests in flight (for maxRequests and the retry budget). */
  active = 0;
  /** Retries in flight. */
  activeRetries = 0;
  #endpoints: Endpoint[] = [];
  readonly #lb: LoadBalancer;
  readonly #outlier: OutlierDetector | undefined;
  readonly #healthChecker: HealthChecker | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #resolve: (host: string) => Promise<string[]>;
  #dnsTimer: NodeJS.Timeout | undefined;
  readonly #tls: ConnectionOptions | undefined;

  constructor(name: string, config: ClusterConfig, options: ClusterOptions) {
    this.name = name;
    this.config = config;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => performance.now());
    this.#resolve = options.resolve ?? resolveAll;
    this.#lb = createLoadBalancer(config.lbPolicy);
    if (config.tls) this.#tls = upstreamTlsOptions(name, config.tls);
    if (config.outlierDetection)
      this.#outlier = new OutlierDetector(
        config.outlierDetection,
        this.#now,
        (endpoint, seconds) => {
          this.#logger.warn(
            { cluster: name, endpoint: endpoint.address, seconds },
            "endpoint ejected by outlier detection",
          );
          options.onEject?.(endpoint, seconds);
        },
      );
    if (config.healthCheck)
      this.#healthChecker = new HealthChecker(config.healthCheck, () => this.#endpoints);
    if (config.type === "static")
      this.#endpoints = config.endpoints.map((address) => {
        const { host, port } = parseAddress(address)!;
        return this.#newEndpoint(host, port, host);
      });
  }

  /** `name` is the endpoint as configured (a DNS name for dns clusters): the TLS server name. */
  #newEndpoint(host: string, port: number, name: string): Endpoint {
    return new Endpoint(host, port, {
      idleTimeoutMs: this.config.idleTimeoutSeconds * 1000,
      maxConnections: this.config.maxConnectionsPerEndpoint,
      tls: this.#tls && endpointTlsOptions(this.#tls, name),
    });
  }

  get endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  async start(): Promise<void> {
    if (this.config.type === "dns") {
      await this.refreshDns();
      this.#dnsTimer = setInterval(
        () => void this.refreshDns(),
        this.config.dnsRefreshSeconds * 1000,
      );
      this.#dnsTimer.unref();
    }
    this.#healthChecker?.start();
  }

  /** Re-resolves every name; endpoints that stay keep their pools and state. */
  async refreshDns(): Promise<void> {
    const wanted: { host: string; port: number; name: string }[] = [];
    for (const address of this.config.endpoints) {
      const { host, port } = parseAddress(address)!;
      try {
        for (const ip of await this.#resolve(host)) wanted.push({ host: ip, port, name: host });
      } catch (error) {
        this.#logger.warn(
          {
            cluster: this.name,
            host,
            code: ProxyErrorCodes.DNS_RESOLVE,
            error: describeError(error),
          },
          `Cannot resolve "${host}" for cluster "${this.name}": keeping the last endpoints`,
        );
        return;
      }
    }
    const byAddress = new Map(this.#endpoints.map((e) => [e.address, e]));
    const next: Endpoint[] = [];
    for (const { host, port, name } of wanted) {
      const key = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
      const existing = byAddress.get(key);
      if (existing) {
        byAddress.delete(key);
        if (!next.includes(existing)) next.push(existing);
      } else if (!next.some((e) => e.address === key))
        next.push(this.#newEndpoint(host, port, name));
    }
    for (const gone of byAddress.values()) gone.close();
    this.#endpoints = next;
  }

  /** An available endpoint other than those in `exclude` when possible; undefined when none. */
  pick(exclude?: Endpoint): Endpoint | undefined {
    const now = this.#now();
    let available: Endpoint[] | readonly Endpoint[] = this.#endpoints;
    for (const e of this.#endpoints) {
      if (!e.isAvailable(now)) {
        available = this.#endpoints.filter((x) => x.isAvailable(now));
        break;
      }
    }
    if (exclude && available.length > 1) available = available.filter((e) => e !== exclude);
    return available.length === 0 ? undefined : this.#lb(available);
  }

  /** Whether another retry fits the budget (share of active requests, with a floor). */
  retryAllowed(budgetPercent: number, minRetryConcurrency: number): boolean {
    const limit = Math.max(minRetryConcurrency, (this.active * budgetPercent) / 100);
    return this.activeRetries < limit;
  }

  reportSuccess(endpoint: Endpoint): void {
    this.#outlier?.success(endpoint);
  }

  reportFailure(endpoint: Endpoint): void {
    this.#outlier?.failure(endpoint, this.#endpoints);
  }

  close(): void {
    clearInterval(this.#dnsTimer);
    this.#healthChecker?.close();
    for (const endpoint of this.#endpoints) endpoint.close();
  }
}
