// V8 flags per command: the young generation's size is fixed when the process starts, and the
// roles want different ones. Each role declares its flags in its RoleDefinition (`v8Flags`, with
// the measurement that chose them); `npm run schema` writes them to v8-flags.json, read here
// before any TypeScript loads. Commands without their own (`run`, `validate`) get 8 MB
// semi-spaces: Node 24 otherwise lets the young generation grow to 128 MB under load.
import { readFileSync } from "node:fs";

const byCommand = JSON.parse(readFileSync(new URL("./v8-flags.json", import.meta.url), "utf8"));

/** The V8 flags `sidecar <command>` runs with. */
export function v8FlagsFor(command) {
  return byCommand[command] ?? ["--max-semi-space-size=8"];
}
