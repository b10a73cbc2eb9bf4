import type { Command } from "commander";
import { ErrorCodes, SidecarError } from "../../runtime/errors.ts";
import { resolveConfigPath } from "../config-path.ts";
import { runSidecar } from "../run-sidecar.ts";

export function registerRunCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("run")
    .description("run the app as a child process with the configured roles around it")
    .usage("[-c FILE] -- CMD [ARGS...]")
    .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG)")
    .argument("<command...>", "the app command and its arguments, after --")
    .passThroughOptions()
    .addHelpText("after", "\nExample:\n  sidecar run -c sidecar.yaml -- node app.js")
    .action(async (command: string[], options: { config?: string }) => {
      if (command.length === 0) {
        throw new SidecarError(
          ErrorCodes.USAGE,
          "No app command given: write it after --, e.g. sidecar run -- node app.js",
        );
      }
      setExitCode(
        await runSidecar({ configPath: resolveConfigPath(options.config), appCommand: command }),
      );
    });
}
