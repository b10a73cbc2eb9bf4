import { Command, CommanderError } from "commander";
import { registerInjectCommands } from "../injector/inject-command.ts";
import { isSidecarError } from "../runtime/errors.ts";
import { sidecarVersion } from "../runtime/version.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerStartCommand } from "./commands/start.ts";
import { registerValidateCommand } from "./commands/validate.ts";
import { formatFailure } from "./format-failure.ts";
import { registerRoleCommand } from "./role-command.ts";
import { roleDefinitions } from "./roles.ts";

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
  registerStartCommand(program, setExitCode);
  for (const definition of roleDefinitions) registerRoleCommand(program, definition, setExitCode);
  registerValidateCommand(program, (line) => process.stdout.write(`${line}\n`));
  registerInjectCommands(program, setExitCode);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }

  try {
    await program.parseAsync(withoutHelpForUnknownCommand(program, argv), { from: "user" });
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

/**
 * `sidecar nosuchcommand --help` must say the command is unknown (exit 2, did-you-mean), not
 * print the general help as if it existed: drop the help flag so the parser reports it.
 */
function withoutHelpForUnknownCommand(program: Command, argv: readonly string[]): string[] {
  const first = argv[0];
  if (first === undefined || first.startsWith("-") || first === "help") return [...argv];
  const known = program.commands.some((c) => c.name() === first || c.aliases().includes(first));
  return known ? [...argv] : argv.filter((arg) => arg !== "--help" && arg !== "-h");
}
