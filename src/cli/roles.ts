import { createProxyRole } from "../proxy/proxy-role.ts";
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
}

/** The roles whose sections are present in the config, in the order the runtime starts them. */
export function buildConfiguredRoles(ctx: RoleContext): ConfiguredRoles {
  const afterApp: Role[] = [];
  if (ctx.config.proxy) afterApp.push(createProxyRole(ctx.config.proxy, ctx));
  return { beforeApp: [], afterApp };
}
