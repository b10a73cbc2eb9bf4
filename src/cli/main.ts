import { Command, CommanderError } from "commander";
import { isSidecarError } from "../runtime/errors.ts";
import { sidecarVersion } from "../runtime/version.ts";
import { registerLogsCommand } from "./commands/logs.ts";
import { registerProxyCommand } from "./commands/proxy.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerValidateCommand } from "./commands/validate.ts";
import { formatFailure } from "./format-failure.ts";

/** Exit codes: 0 ok, 1 failure at run time, 2 usage or config error; `run` exits with the app's code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command("sidecar")
    .description(
      "The sidecar for Kubernetes apps: proxy, logs, config, metrics and data sync in one program.",
    )
    .version(sidecarVersion, "-V, --version")
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    });
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  registerRunCommand(program, setExitCode);
  registerProxyCommand(program, setExitCode);
  registerLogsCommand(program, setExitCode);
  registerValidateCommand(program, (line) => process.stdout.write(`${line}\n`));
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(formatFailure(error));
    return isSidecarError(error) ? error.exitCode : 1;
  }
}
