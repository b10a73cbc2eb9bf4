import type { Command } from "commander";
import { resolveConfigPath } from "../config-path.ts";
import { loadConfigInChild } from "../load-config-in-child.ts";

export function registerValidateCommand(program: Command, out: (line: string) => void): void {
  program
    .command("validate")
    .description("check a config file and print every problem, or ok")
    .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG)")
    .action(async (options: { config?: string }) => {
      const path = resolveConfigPath(options.config);
      const loaded = await loadConfigInChild(path);
      out(`ok: ${path ?? "built-in defaults"} (config hash ${loaded.hash})`);
    });
}
