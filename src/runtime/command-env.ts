import type { AnyRoleDefinition } from "./role-definition.ts";

/** The commands that run the roles a config file names, so any role's environment may matter. */
const configCommands = ["run", "start"];

/**
 * The environment each command starts with, as bin/command-env.json holds it: `bin/sidecar.js`
 * reads that file before any TypeScript loads (libuv sizes its thread pool at its first use,
 * and loading the config uses it), so it is generated from the definitions (`npm run schema`)
 * and a test keeps it current. A role's command gets the role's `env`; `run` and `start` get
 * every role's (the larger number when two roles ask for the same variable).
 */
export function envByCommand(
  definitions: readonly AnyRoleDefinition[],
): Record<string, Record<string, string>> {
  const byCommand: Record<string, Record<string, string>> = {};
  const merged: Record<string, string> = {};
  for (const definition of definitions) {
    if (!definition.env || Object.keys(definition.env).length === 0) continue;
    byCommand[definition.name] = { ...definition.env };
    for (const [name, value] of Object.entries(definition.env)) {
      const previous = merged[name];
      merged[name] = previous !== undefined && Number(previous) > Number(value) ? previous : value;
    }
  }
  if (Object.keys(merged).length > 0)
    for (const command of configCommands) byCommand[command] = merged;
  return byCommand;
}
