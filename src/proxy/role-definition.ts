import { longRunningEnv } from "../runtime/command-env.ts";
import { defineRole } from "../runtime/role-definition.ts";
import { proxyCommand } from "./proxy-command.ts";
import { proxyPanel } from "./proxy-panel.ts";

/**
 * The proxy role: listeners → routes → clusters in front of the app. It starts once the app is
 * ready and drains before the app is stopped.
 */
export const proxyRoleDefinition = defineRole({
  name: "proxy",
  description: "The reverse proxy in front of the app (see docs/proxy.md).",
  loadSchema: async () => (await import("./proxy-config.ts")).proxyConfigSchema,
  phase: "after-app",
  env: longRunningEnv,
  command: proxyCommand,
  // 8 MB semi-spaces: the proxy's per-request garbage filled Node's default young generation
  // (peak RSS 215 MB at 50 connections; 133–141 MB with 8 MB). docs/proxy.md, Performance.
  // --expose-gc: one collection once started shrinks the young generation the start grew (idle
  // 80 → 72 MB), and again after 5 min with no request in flight (runtime/quiet-memory-release.ts);
  // gc() is emptied on the global object (runtime/release-startup-memory.ts). Not for `sidecar
  // logs`: there the shrunk young generation promoted the lines in flight (peak 114 → 178 MB).
  // --no-parallel-scavenge: a scavenge on the main thread alone pauses it half as long when the
  // app and the other cores are busy (median 0.78 → 0.35 ms, 90th percentile 1.6 → 0.5 ms at
  // 5000 req/s in bursts), for the same CPU per request; helpers waiting on a busy core had
  // stretched the pause of every request in flight (docs/proxy.md, Performance).
  v8Flags: ["--max-semi-space-size=8", "--expose-gc", "--no-parallel-scavenge"],
  async create(section, ctx) {
    const { createProxyRole, listenerFilterConfigs } = await import("./proxy-role.ts");
    ctx.admin.panel(
      proxyPanel(
        ctx.registry,
        section.listeners.map((listener) => listener.name),
        () => ctx.clock.now(),
      ),
    );
    // The built-in filters (and the schemas they declare, and so zod) only for a config that
    // has filters: an idle proxy without them does not hold the schema library.
    const usesFilters = section.listeners.some(
      (listener) =>
        listenerFilterConfigs(listener).length > 0 ||
        listener.routes.some((route) => route.filters.length > 0),
    );
    const filterTypes = usesFilters
      ? (await import("./filters/registry.ts")).filterComponents
      : undefined;
    // The escape hatch and the benchmarks' comparison: plain listeners on node:http's server.
    const requestSide = process.env.SIDECAR_PROXY_REQUEST_SIDE === "node" ? "node" : undefined;
    return createProxyRole(section, { ...ctx, filterTypes, requestSide });
  },
});
