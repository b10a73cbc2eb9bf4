import type { AdminRouter } from "./admin/admin-router.ts";
import type { AppOutputTap } from "./app/app-output.ts";
import type { Clock } from "./clock.ts";
import type { SidecarConfig } from "./config/load-config.ts";
import type { Role } from "./role.ts";
import type { AnyRoleDefinition, AppHandle, RoleContext, RoleMemory } from "./role-definition.ts";
import type { Logger } from "./telemetry/logger.ts";
import type { Registry } from "./telemetry/metrics-registry.ts";

export interface AssembleRolesOptions {
  definitions: readonly AnyRoleDefinition[];
  config: SidecarConfig;
  /** The role command being run (`sidecar node`): standalone roles start only through theirs. */
  command?: string | undefined;
  logger: Logger;
  registry: Registry;
  admin: AdminRouter;
  clock: Clock;
  shutdown: AbortSignal;
  requestStop(reason: string, exitCode?: number): void;
  app: AppHandle | undefined;
  memory: RoleMemory;
}

export interface AssembledRoles {
  /** Roles the app needs before it starts, and that stop after it (config, sync, logs). */
  beforeApp: Role[];
  /** Roles that serve the app's traffic once it is ready, and drain before it stops (proxy). */
  afterApp: Role[];
  /** Where the app's stdout/stderr go besides the terminal (a role's `appOutput`). */
  appOutput?: AppOutputTap;
}

/**
 * Builds every role whose config section is present, in the order of `definitions`, and splits
 * them by phase. Standalone roles are built only when their own command runs.
 */
export async function assembleRoles(options: AssembleRolesOptions): Promise<AssembledRoles> {
  const assembled: AssembledRoles = { beforeApp: [], afterApp: [] };
  for (const definition of options.definitions) {
    const section = options.config[definition.name];
    if (section === undefined) continue;
    if (definition.phase === "standalone" && options.command !== definition.name) continue;
    const ctx: RoleContext = {
      logger: options.logger.child({ role: definition.name }),
      registry: options.registry,
      admin: options.admin,
      clock: options.clock,
      shutdown: options.shutdown,
      config: options.config,
      requestStop: options.requestStop,
      app: options.app,
      memory: options.memory,
    };
    const role = await definition.create(section, ctx);
    if (role.name !== definition.name)
      throw new TypeError(`Role "${definition.name}" built a role named "${role.name}"`);
    (definition.phase === "after-app" ? assembled.afterApp : assembled.beforeApp).push(role);
    if (role.appOutput) {
      if (assembled.appOutput)
        throw new TypeError(`Two roles tap the app's output ("${definition.name}" is the second)`);
      assembled.appOutput = role.appOutput;
    }
  }
  return assembled;
}
