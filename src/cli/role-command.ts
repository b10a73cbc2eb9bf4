import type { Command } from "commander";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { AnyRoleDefinition, RoleOption } from "../runtime/role-definition.ts";
import { adminOverlay, commandKit, mergeOverlays } from "./command-kit.ts";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function addOptions(command: Command, options: readonly RoleOption[] = []): void {
  for (const option of options) {
    if (option.repeatable) command.option(option.flags, option.description, collect);
    else command.option(option.flags, option.description);
  }
}

function examplesText(examples: readonly string[] | undefined): string {
  return examples?.length
    ? `\nExample${examples.length > 1 ? "s" : ""}:\n${examples.map((e) => `  ${e}`).join("\n")}`
    : "";
}

/**
 * `sidecar <role>`: the role's own flags plus `-c/--config` and `--admin-address`, merged as an
 * overlay over the config file and run by the same runtime as `sidecar run`, without an app.
 */
export function registerRoleCommand(
  program: Command,
  definition: AnyRoleDefinition,
  setExitCode: (code: number) => void,
): void {
  const spec = definition.command;
  if (!spec) return;
  const kit = commandKit(definition.name);
  const command = program
    .command(definition.name)
    .description(spec.description)
    .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG); flags override it")
    .option(
      "--admin-address <address>",
      "admin server address (default: $SIDECAR_ADMIN_ADDRESS, else admin.address, else 127.0.0.1:9901); 0.0.0.0:9901 in a Pod",
    );
  if (spec.usage) command.usage(spec.usage);
  addOptions(command, spec.options);
  command.addHelpText("after", examplesText(spec.examples));
  command.action(
    async (flags: Record<string, unknown> & { config?: string; adminAddress?: string }) => {
      const configPath = kit.configPath(flags.config);
      const roleOverlay = spec.overlay(flags, { configPath });
      const overlay = mergeOverlays(roleOverlay, adminOverlay(flags.adminAddress));
      // Without flags the file must have the role's section: loaded once, to check that and to run.
      let loaded: Awaited<ReturnType<typeof kit.loadConfig>> | undefined;
      if (!roleOverlay) {
        loaded = configPath === undefined ? undefined : await kit.loadConfig(configPath, overlay);
        if (loaded?.config[definition.name] === undefined)
          throw new SidecarError(
            ErrorCodes.USAGE,
            `${spec.nothingToDo}${configPath ? ` (${configPath} has none)` : ""}`,
          );
      }
      setExitCode(await kit.runSidecar({ configPath, overlay, ...(loaded ? { loaded } : {}) }));
    },
  );
  for (const sub of spec.subcommands ?? []) {
    const subcommand = command
      .command(sub.name)
      .description(sub.description)
      .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG)");
    addOptions(subcommand, sub.options);
    subcommand.addHelpText("after", examplesText(sub.examples));
    subcommand.action(async (flags: Record<string, unknown>) => {
      setExitCode(await sub.action(flags, kit));
    });
  }
}
