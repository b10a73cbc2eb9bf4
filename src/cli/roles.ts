import { configRoleDefinition } from "../config-sync/role-definition.ts";
import { syncRoleDefinition } from "../data-sync/role-definition.ts";
import { webhookRoleDefinition } from "../injector/webhook/role-definition.ts";
import { logsRoleDefinition } from "../logs/role-definition.ts";
import { metricsRoleDefinition } from "../metrics/role-definition.ts";
import { nodeRoleDefinition } from "../node/role-definition.ts";
import { proxyRoleDefinition } from "../proxy/role-definition.ts";
import type { ConfigSchemaLoader } from "../runtime/config/load-config.ts";
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
  metricsRoleDefinition,
  nodeRoleDefinition,
];

/**
 * The schema of sidecar.yaml for a config with these top-level keys: the runtime's sections and
 * every role's key, with only the schemas of the role sections the config has built (each role
 * loads its schema module on demand). What commands validate a config with, in a process of
 * its own (load-config-in-child.ts): loaded on use, so that the sidecar itself never loads zod.
 */
export const configSchema: ConfigSchemaLoader = async (keys) =>
  (await import("../runtime/config/schema.ts")).composeConfigSchema(roleDefinitions, keys);

/** The whole schema of sidecar.yaml, every role's section built: the JSON Schema, the docs. */
export const fullConfigSchema = async () =>
  (await import("../runtime/config/schema.ts")).composeConfigSchema(roleDefinitions);
