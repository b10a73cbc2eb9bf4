import type { z } from "zod";
import { AdminRouteTable } from "./admin/admin-router.ts";
import { AppRole } from "./app/app-role.ts";
import { systemClock } from "./clock.ts";
import { appEnvironment } from "./command-env.ts";
import { formatAddress, type ListenAddress } from "./config/address.ts";
import type { ConfigSchemaLoader } from "./config/load-config.ts";
import type { ConfigLoader, SidecarConfig } from "./config/loaded-config.ts";
import { deriveMemoryBudget } from "./memory-budget.ts";
import { readMemoryPlan } from "./memory-plan-env.ts";
import { MemoryPressure, noMemoryPressure } from "./memory-pressure.ts";
import { QuietMemoryRelease } from "./quiet-memory-release.ts";
import { assembleRoles } from "./role-assembly.ts";
import type { AnyRoleDefinition, AppHandle } from "./role-definition.ts";
import { SidecarRuntime } from "./sidecar-runtime.ts";
import { createLogger } from "./telemetry/logger.ts";
import { createSidecarRegistry } from "./telemetry/metrics-registry.ts";
import { sidecarVersion } from "./version.ts";

export interface RunSidecarOptions {
  /** Every role the program knows (the CLI's list), in start order within each phase. */
  definitions: readonly AnyRoleDefinition[];
  /**
   * Reads and validates the config: the CLI's validates it in a process of its own, so the
   * schema library never loads in this one (src/cli/load-config-in-child.ts). Default:
   * loadConfigFile in this process, with `schema`.
   */
  loadConfig?: ConfigLoader | undefined;
  /**
   * Without `loadConfig`: the schema composed from `definitions`, or a loader that builds it
   * for the config's top-level keys (composeConfigSchema with `present`). Default: the
   * runtime's sections only.
   */
  schema?: z.ZodType<SidecarConfig> | ConfigSchemaLoader;
  configPath: string | undefined;
  /** Values from a role command's flags, merged over the file (e.g. { proxy: { … } }). */
  overlay?: Record<string, unknown> | undefined;
  /** The role command being run (`sidecar proxy`), if any. */
  command?: string | undefined;
  /** The app command, in local mode (`sidecar run -- CMD`). Without it, only the roles run (in a Pod). */
  appCommand?: readonly string[] | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads the config, builds the configured roles (and the app in local mode), and runs them
 * until a signal, /quitquitquit or the app's exit. Resolves with the exit code.
 */
export async function runSidecar({
  definitions,
  loadConfig,
  schema,
  configPath,
  overlay,
  command,
  appCommand,
  env = process.env,
}: RunSidecarOptions): Promise<number> {
  const loaded = loadConfig
    ? await loadConfig(configPath, { env, overlay })
    : await (await import("./config/load-config.ts")).loadConfigFile(configPath, {
        env,
        ...(schema ? { schema } : {}),
        ...(overlay ? { overlay } : {}),
      });
  const { config } = loaded;
  const logger = createLogger({
    level: env.SIDECAR_LOG_LEVEL ?? config.log.level,
    format: env.SIDECAR_LOG_FORMAT ?? config.log.format,
  });
  const metrics = createSidecarRegistry({ version: sidecarVersion });
  const admin = new AdminRouteTable();
  const shutdown = new AbortController();
  // Under a container limit the buffers are sized from the plan and reading pauses near it.
  const plan = readMemoryPlan(env);
  const pressure =
    plan &&
    new MemoryPressure({
      budgetBytes: plan.budgetBytes,
      clock: systemClock,
      registry: metrics.registry,
      logger: logger.child({ role: "memory" }),
    });
  const release = new QuietMemoryRelease({ clock: systemClock });
  // Near the budget, the young generation and the old one's garbage go back before anything waits.
  pressure?.onChange((active) => {
    if (active) release.releaseNow();
  });
  const memory = {
    budget: deriveMemoryBudget(plan),
    pressure: pressure ?? noMemoryPressure,
    release,
  };
  let runtime: SidecarRuntime | undefined;
  let app: AppRole | undefined;
  const appHandle: AppHandle | undefined = appCommand && {
    signal: (signal) => app?.signal(signal) ?? false,
    restart: async (reason) => app?.restart(reason),
    ready: () => app?.ready() ?? false,
  };
  const { beforeApp, afterApp, appOutput } = await assembleRoles({
    definitions,
    config,
    command,
    logger,
    registry: metrics.registry,
    admin,
    clock: systemClock,
    shutdown: shutdown.signal,
    requestStop: (reason, exitCode) => runtime?.requestStop(reason, exitCode),
    app: appHandle,
    memory,
  });
  app =
    appCommand &&
    new AppRole(appCommand, config.app, {
      registry: metrics.registry,
      logger: logger.child({ role: "app" }),
      env: () => ({ ...appEnvironment(env), ...adminUrlEnv(runtime?.admin.address) }),
      onFinalExit: (status) => runtime?.requestStop(`app exited (${status.signal ?? status.code})`),
      ...(appOutput ? { output: appOutput } : {}),
    });
  if (appOutput && !app)
    logger.warn("logs: a stdout source is configured but there is no app (use sidecar run -- CMD)");
  const roles = app ? [...beforeApp, app, ...afterApp] : [...beforeApp, ...afterApp];
  runtime = new SidecarRuntime({
    loaded,
    logger,
    metrics,
    roles,
    adminRoutes: admin,
    memory: { plan, budget: memory.budget, pressure, release },
    onStopRequested: () => shutdown.abort(),
    ...(app ? { app } : {}),
  });
  return runtime.run();
}

/** SIDECAR_ADMIN_URL for the app; a wildcard bind is reached over loopback. */
function adminUrlEnv(address: ListenAddress | undefined): Record<string, string> {
  if (!address) return {};
  const host =
    address.host === "0.0.0.0" ? "127.0.0.1" : address.host === "::" ? "::1" : address.host;
  return { SIDECAR_ADMIN_URL: `http://${formatAddress({ host, port: address.port })}` };
}
