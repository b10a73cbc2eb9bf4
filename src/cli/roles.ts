import { configRoleDefinition } from "../config-sync/role-definition.ts";
import { syncRoleDefinition } from "../data-sync/role-definition.ts";
import { webhookRoleDefinition } from "../injector/webhook/role-definition.ts";
import { logsRoleDefinition } from "../logs/role-definition.ts";
import { proxyRoleDefinition } from "../proxy/role-definition.ts";
import { composeConfigSchema } from "../runtime/config/schema.ts";
import type { AnyRoleDefinition } from "../runtime/role-definition.ts";

/**
 * Every role the program has, in start order within each phase. Adding a role: its own folder
 * with a `role-definition.ts`, and one line here (docs/architecture.md, "Adding a role").
 */
export const roleDefinitions: readonly AnyRoleDefinition[] = [
  logsRoleDefinition,
  proxyRoleDefinition,
  configRoleDefinition,
  webhookRoleDefinition,
  syncRoleDefinition,
];

/** The schema of sidecar.yaml: the runtime's sections and one per role. */
export const configSchema = composeConfigSchema(roleDefinitions);
