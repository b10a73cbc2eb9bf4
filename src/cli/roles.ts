import { createLogsRole } from "../logs/logs-role.ts";
import { createProxyRole } from "../proxy/proxy-role.ts";
import type { AppOutputTap } from "../runtime/app/app-output.ts";
import type { SidecarConfig } from "../runtime/config/schema.ts";
import type { Role } from "../runtime/role.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import type { Registry } from "../runtime/telemetry/metrics-registry.ts";

/** What every role factory receives. */
export interface RoleContext {
  config: SidecarConfig;
  logger: Logger;
  registry: Registry;
}

export interface ConfiguredRoles {
  /** Roles the app needs before it starts (config, sync restore, logs collection). */
  beforeApp: Role[];
  /** Roles that serve traffic to the app once it is ready (proxy). */
  afterApp: Role[];
  /** Where the app's stdout/stderr go besides the terminal (the logs role's `stdout` source). */
  appOutput?: AppOutputTap;
}

/** The roles whose sections are present in the config, in the order the runtime starts them. */
export function buildConfiguredRoles(ctx: RoleContext): ConfiguredRoles {
  const roles: ConfiguredRoles = { beforeApp: [], afterApp: [] };
  if (ctx.config.logs) {
    // Before the app: it starts collecting before the app writes and stops after the app exits.
    const logs = createLogsRole(ctx.config.logs, { logger: ctx.logger, registry: ctx.registry });
    roles.beforeApp.push(logs);
    if (logs.appOutput) roles.appOutput = logs.appOutput;
  }
  // After the app: traffic reaches the app only once it is ready, and drains before it stops.
  if (ctx.config.proxy) roles.afterApp.push(createProxyRole(ctx.config.proxy, ctx));
  return roles;
}
