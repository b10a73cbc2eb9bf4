import { parseAddress } from "../runtime/config/address.ts";
import { deepMerge } from "../runtime/config/deep-merge.ts";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommandKit } from "../runtime/role-definition.ts";
import { runSidecar } from "../runtime/run-sidecar.ts";
import { resolveConfigPath } from "./config-path.ts";
import { loadConfigInChild } from "./load-config-in-child.ts";
import { roleDefinitions } from "./roles.ts";

/**
 * `admin.address` from `--admin-address`, else SIDECAR_ADMIN_ADDRESS (in a Pod the admin port
 * must listen on 0.0.0.0 for kubelet's probes, without a config file).
 */
export function adminOverlay(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> | undefined {
  const address = flag ?? (env.SIDECAR_ADMIN_ADDRESS || undefined);
  if (address === undefined) return undefined;
  if (!parseAddress(address))
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Invalid ${flag === undefined ? "SIDECAR_ADMIN_ADDRESS" : "--admin-address"} "${address}": expected HOST:PORT (e.g. 0.0.0.0:9901)`,
    );
  return { admin: { address } };
}

/** Two overlays as one (the second wins key by key); undefined when both are. */
export function mergeOverlays(
  a: Record<string, unknown> | undefined,
  b: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!a) return b;
  if (!b) return a;
  return deepMerge(a, b) as Record<string, unknown>;
}

/** What a role command's action works with: the program's roles and schema, bound. */
export function commandKit(command: string | undefined): RoleCommandKit {
  return {
    configPath: (flag) => resolveConfigPath(flag),
    runSidecar: ({ configPath, overlay, loaded }) =>
      runSidecar({
        definitions: roleDefinitions,
        loadConfig: loaded ? async () => loaded : loadConfigInChild,
        configPath,
        overlay,
        command,
      }),
    loadConfig: (configPath, overlay) => loadConfigInChild(configPath, { overlay }),
  };
}
