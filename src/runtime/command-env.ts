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

/**
 * The environment of a role whose command runs for the Pod's lifetime: no V8 compile cache
 * (bin/sidecar.js keeps one otherwise). Read at start, the cache brings in the bytecode of every
 * function the previous run compiled, where without it a function is compiled when first
 * called, and what an idle sidecar never calls is never compiled: an idle `sidecar proxy` holds
 * 0.55 MiB more with the cache (issue 16's idle target is 64 MB), against ~40 ms saved once per
 * start. `sync` keeps it: its `--once` and `restore` runs are short. Short commands
 * (`--version`, `validate`, `inject`) keep it too; `run` and `start` take it from their roles.
 */
export const longRunningEnv: Readonly<Record<string, string>> = {
  NODE_DISABLE_COMPILE_CACHE: "1",
};

/**
 * The environment an app `sidecar run` starts gets: the sidecar's own, less the variables
 * bin/sidecar.js added for the sidecar's command (named in SIDECAR_COMMAND_ENV), which are not
 * the app's: its own thread pool size and compile cache stay its own or Node's defaults.
 *
 * @example
 * appEnvironment({ A: "1", UV_THREADPOOL_SIZE: "16", SIDECAR_COMMAND_ENV: "UV_THREADPOOL_SIZE" });
 * // { A: "1" }
 */
export function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const added = env.SIDECAR_COMMAND_ENV;
  if (added === undefined) return env;
  const app = { ...env };
  for (const name of [...added.split(","), "SIDECAR_COMMAND_ENV"]) delete app[name];
  return app;
}
