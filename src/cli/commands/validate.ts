import type { Command } from "commander";
import { loadConfigFile } from "../../runtime/config/load-config.ts";
import { resolveConfigPath } from "../config-path.ts";
import { configSchema } from "../roles.ts";

export function registerValidateCommand(program: Command, out: (line: string) => void): void {
  program
    .command("validate")
    .description("check a config file and print every problem, or ok")
    .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG)")
    .action(async (options: { config?: string }) => {
      const path = resolveConfigPath(options.config);
      const loaded = await loadConfigFile(path, { schema: configSchema });
      out(`ok: ${path ?? "built-in defaults"} (config hash ${loaded.hash})`);
    });
}
