// Environment variables per command, for what must be set before it is first used: libuv's
// thread pool size (UV_THREADPOOL_SIZE) is read when the pool starts, at the first file read.
// Each role declares them in its RoleDefinition (`env`, with the measurement that chose them);
// `npm run schema` writes them to command-env.json, read here before any TypeScript loads.
import { readFileSync } from "node:fs";

const byCommand = JSON.parse(readFileSync(new URL("./command-env.json", import.meta.url), "utf8"));

/** The variables `sidecar <command>` adds to `env`: its own, except those `env` already sets. */
export function commandEnvFor(command, env = process.env) {
  const added = {};
  for (const [name, value] of Object.entries(byCommand[command] ?? {}))
    if (env[name] === undefined || env[name] === "") added[name] = value;
  return added;
}
