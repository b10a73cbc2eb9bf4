import type { Command } from "commander";
import { ErrorCodes, SidecarError } from "../../runtime/errors.ts";
import { runSidecar } from "../../runtime/run-sidecar.ts";
import { adminOverlay } from "../command-kit.ts";
import { resolveConfigPath } from "../config-path.ts";
import { loadConfigInChild } from "../load-config-in-child.ts";
import { roleDefinitions } from "../roles.ts";

export function registerRunCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("run")
    .description("run the app as a child process with the configured roles around it")
    .usage("[-c FILE] [--admin-address HOST:PORT] -- CMD [ARGS...]")
    .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG)")
    .option(
      "--admin-address <address>",
      "admin server address (default: $SIDECAR_ADMIN_ADDRESS, else admin.address, else 127.0.0.1:9901)",
    )
    .argument("<command...>", "the app command and its arguments, after --")
    .passThroughOptions()
    .addHelpText("after", "\nExample:\n  sidecar run -c sidecar.yaml -- node app.js")
    .action(async (command: string[], options: { config?: string; adminAddress?: string }) => {
      if (command.length === 0) {
        throw new SidecarError(
          ErrorCodes.USAGE,
          "No app command given: write it after --, e.g. sidecar run -- node app.js",
        );
      }
      setExitCode(
        await runSidecar({
          definitions: roleDefinitions,
          loadConfig: loadConfigInChild,
          configPath: resolveConfigPath(options.config),
          overlay: adminOverlay(options.adminAddress),
          appCommand: command,
        }),
      );
    });
}
