import type { ComponentContext } from "../runtime/component.ts";
import { capped, type MemoryBudget } from "../runtime/memory-budget.ts";
import type { Role } from "../runtime/role.ts";
import type { RoleMemory } from "../runtime/role-definition.ts";
import { AccessLog } from "./access-log.ts";
import { Cluster } from "./cluster/cluster.ts";
import type { FilterComponent } from "./filters/filter.ts";
import { ProxyListener } from "./listener.ts";

export { listenerFilterConfigs } from "./listener.ts";

import type { ProxyConfig } from "./proxy-config.ts";
import { ProxyMetrics } from "./proxy-metrics.ts";

export type ProxyRoleContext = Pick<ComponentContext, "logger" | "registry"> & {
  /**
   * The filter types `filters:` entries are built from: the built-in ones, which the role
   * definition loads only for a config with filters (each brings its schema, and so zod, into
   * the running proxy), plus any of a test's or an embedder's own (not validated here).
   */
  filterTypes?: readonly FilterComponent[] | undefined;
  /** Caps on per-connection limits under a memory limit, and when to hold back (default: neither). */
  memory?: RoleMemory | undefined;
  /** Where plain listeners parse requests (ProxyListenerOptions.requestSide). */
  requestSide?: "net" | "node" | undefined;
};

/** The proxy role with its listeners exposed (tests read the bound addresses). */
export interface ProxyRole extends Role {
  readonly listeners: readonly ProxyListener[];
  readonly clusters: ReadonlyMap<string, Cluster>;
}

/**
 * The proxy role: every listener and cluster of the `proxy:` section.
 *
 * @example
 * const role = createProxyRole(config.proxy, { logger, registry });
 * await role.start();
 * await role.stop(AbortSignal.timeout(30_000));
 */
export function createProxyRole(section: ProxyConfig, ctx: ProxyRoleContext): ProxyRole {
  const { logger } = ctx;
  const config = ctx.memory ? withinBudget(section, ctx.memory.budget) : section;
  const metrics = new ProxyMetrics(ctx.registry);
  const clusters = new Map<string, Cluster>();
  for (const [name, clusterConfig] of Object.entries(config.clusters))
    clusters.set(
      name,
      new Cluster(name, clusterConfig, {
        logger,
        onEject: () => metrics.ejections.inc({ cluster: name }),
      }),
    );
  const accessLog = config.accessLog.enabled ? new AccessLog(config.accessLog) : undefined;
  const listeners = config.listeners.map(
    (listener) =>
      new ProxyListener(listener, {
        clusters,
        metrics,
        accessLog,
        logger,
        filterTypes: ctx.filterTypes,
        memory: ctx.memory?.budget.limited
          ? {
              pressure: ctx.memory.pressure,
              connections: ctx.memory.budget.proxy.maxConnections,
            }
          : undefined,
        release: ctx.memory?.release,
        requestSide: ctx.requestSide,
      }),
  );
  let state: "idle" | "running" | "stopping" | "stopped" = "idle";
  let stopping: Promise<void> | undefined;

  return {
    name: "proxy",
    listeners,
    clusters,
    async start() {
      await Promise.all([...clusters.values()].map((c) => c.start()));
      try {
        for (const listener of listeners) {
          const address = await listener.start();
          logger.info(
            { listener: listener.config.name, address: `${address.host}:${address.port}` },
            "proxy listening",
          );
        }
      } catch (error) {
        for (const c of clusters.values()) c.close();
        throw error;
      }
      state = "running";
    },
    ready: () => state === "running",
    notReadyReason: () => (state === "running" ? undefined : `proxy is ${state}`),
    stop(deadline) {
      stopping ??= (async () => {
        state = "stopping";
        await Promise.all(listeners.map((l) => l.drain(deadline)));
        for (const c of clusters.values()) c.close();
        await accessLog?.close();
        state = "stopped";
      })();
      return stopping;
    },
  };
}

/**
 * The section with its per-connection limits capped by the memory budget (a smaller
 * configured value stays). A plain listener reads at most the budget's connections at once and
 * keeps the rest waiting (PressureGate); a TLS listener cannot hold them, so its
 * `maxConnections` is capped instead (more are closed, as at any `maxConnections`).
 */
function withinBudget(config: ProxyConfig, budget: MemoryBudget): ProxyConfig {
  if (!budget.limited) return config;
  const { maxConnections, retryBufferBytes } = budget.proxy;
  return {
    ...config,
    listeners: config.listeners.map((listener) => ({
      ...listener,
      maxConnections: listener.tls
        ? capped(listener.maxConnections, maxConnections, budget)
        : listener.maxConnections,
      routes: listener.routes.map((route) => ({
        ...route,
        retries: {
          ...route.retries,
          bufferBytes: capped(route.retries.bufferBytes, retryBufferBytes, budget),
        },
      })),
    })),
  };
}
