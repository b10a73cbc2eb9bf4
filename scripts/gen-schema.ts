// Regenerates what is derived from the role definitions (a test fails when either is stale):
// schema/sidecar.schema.json (for editors), bin/v8-flags.json and bin/command-env.json (read by
// bin/sidecar.js).
import { writeFile } from "node:fs/promises";
import { fullConfigSchema, roleDefinitions } from "../src/cli/roles.ts";
import { envByCommand } from "../src/runtime/command-env.ts";
import { sidecarJsonSchema } from "../src/runtime/config/json-schema.ts";
import { v8FlagsByCommand } from "../src/runtime/v8-flags.ts";

const schema = new URL("../schema/sidecar.schema.json", import.meta.url);
await writeFile(schema, sidecarJsonSchema(await fullConfigSchema()));
console.log(`wrote ${schema.pathname}`);
const v8Flags = new URL("../bin/v8-flags.json", import.meta.url);
await writeFile(v8Flags, `${JSON.stringify(v8FlagsByCommand(roleDefinitions), null, 2)}\n`);
console.log(`wrote ${v8Flags.pathname}`);
const commandEnv = new URL("../bin/command-env.json", import.meta.url);
await writeFile(commandEnv, `${JSON.stringify(envByCommand(roleDefinitions), null, 2)}\n`);
console.log(`wrote ${commandEnv.pathname}`);
