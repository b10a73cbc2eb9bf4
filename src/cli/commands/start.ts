import type { Command } from "commander";
import { ErrorCodes, SidecarError } from "../../runtime/errors.ts";
import { adminOverlay, commandKit } from "../command-kit.ts";
import { roleDefinitions } from "../roles.ts";

/**
 * `sidecar start`: every role the config has a section for, without an app: the sidecar
 * container of a Pod (the app is its neighbour on 127.0.0.1). The config comes from -c,
 * SIDECAR_CONFIG, or inline from SIDECAR_CONFIG_YAML (what `sidecar inject` sets).
 */
export function registerStartCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("start")
    .description("run every role the config has a section for (the sidecar container of a Pod)")
    .option(
      "-c, --config <file>",
      "config file (default: $SIDECAR_CONFIG, else $SIDECAR_CONFIG_YAML inline)",
    )
    .option(
      "--admin-address <address>",
      "admin server address (default: $SIDECAR_ADMIN_ADDRESS, else admin.address, else 127.0.0.1:9901)",
    )
    .addHelpText(
      "after",
      "\nExample:\n  sidecar start -c /etc/sidecar/sidecar.yaml --admin-address 0.0.0.0:9901",
    )
    .action(async (options: { config?: string; adminAddress?: string }) => {
      const kit = commandKit(undefined);
      const configPath = kit.configPath(options.config);
      const overlay = adminOverlay(options.adminAddress);
      const loaded = await kit.loadConfig(configPath, overlay);
      const { config } = loaded;
      const runnable = roleDefinitions.filter(
        (role) => role.phase !== "standalone" && config[role.name] !== undefined,
      );
      if (runnable.length === 0)
        throw new SidecarError(
          ErrorCodes.USAGE,
          `Nothing to start: the config has no role section (${roleDefinitions
            .filter((role) => role.phase !== "standalone")
            .map((role) => role.name)
            .join(", ")})`,
        );
      setExitCode(await kit.runSidecar({ configPath, overlay, loaded }));
    });
}
