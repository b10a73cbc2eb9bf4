import { AppRole } from "../runtime/app/app-role.ts";
import { loadConfigFile } from "../runtime/config/load-config.ts";
import { formatAddress, type ListenAddress } from "../runtime/config/schema-helpers.ts";
import { SidecarRuntime } from "../runtime/sidecar-runtime.ts";
import { createLogger } from "../runtime/telemetry/logger.ts";
import { createSidecarRegistry } from "../runtime/telemetry/metrics-registry.ts";
import { sidecarVersion } from "../runtime/version.ts";
import { buildConfiguredRoles } from "./roles.ts";

export interface RunSidecarOptions {
  configPath: string | undefined;
  /** Values from a role command's flags, merged over the file (e.g. { proxy: { … } }). */
  overlay?: Record<string, unknown>;
  /** The app command, in local mode (`sidecar run -- CMD`). Without it, only the roles run (in a Pod). */
  appCommand?: readonly string[];
}

/**
 * Loads the config, builds the configured roles (and the app in local mode), and runs them
 * until a signal, /quitquitquit or the app's exit. Resolves with the exit code.
 */
export async function runSidecar({
  configPath,
  overlay,
  appCommand,
}: RunSidecarOptions): Promise<number> {
  const loaded = await loadConfigFile(configPath, overlay ? { overlay } : {});
  const { config } = loaded;
  const logger = createLogger({ level: process.env.SIDECAR_LOG_LEVEL ?? config.log.level });
  const metrics = createSidecarRegistry({ version: sidecarVersion });
  const { beforeApp, afterApp, appOutput } = buildConfiguredRoles({
    config,
    logger,
    registry: metrics.registry,
  });
  let runtime: SidecarRuntime | undefined;
  const app =
    appCommand &&
    new AppRole(appCommand, config.app, {
      registry: metrics.registry,
      logger: logger.child({ role: "app" }),
      env: () => ({ ...process.env, ...adminUrlEnv(runtime?.admin.address) }),
      onFinalExit: (status) => runtime?.requestStop(`app exited (${status.signal ?? status.code})`),
      ...(appOutput ? { output: appOutput } : {}),
    });
  if (appOutput && !app)
    logger.warn("logs: a stdout source is configured but there is no app (use sidecar run -- CMD)");
  const roles = app ? [...beforeApp, app, ...afterApp] : [...beforeApp, ...afterApp];
  runtime = new SidecarRuntime({ loaded, logger, metrics, roles, ...(app ? { app } : {}) });
  return runtime.run();
}

/** SIDECAR_ADMIN_URL for the app; a wildcard bind is reached over loopback. */
function adminUrlEnv(address: ListenAddress | undefined): Record<string, string> {
  if (!address) return {};
  const host =
    address.host === "0.0.0.0" ? "127.0.0.1" : address.host === "::" ? "::1" : address.host;
  return { SIDECAR_ADMIN_URL: `http://${formatAddress({ host, port: address.port })}` };
}
