import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fullConfigSchema, roleDefinitions } from "../src/cli/roles.ts";
import { envByCommand } from "../src/runtime/command-env.ts";
import { sidecarJsonSchema } from "../src/runtime/config/json-schema.ts";
import { v8FlagsByCommand } from "../src/runtime/v8-flags.ts";

// These files are generated from the role definitions by `npm run schema`.
test("schema/sidecar.schema.json is up to date (run `npm run schema` after changing a config schema)", async () => {
  const committed = await readFile(
    new URL("../schema/sidecar.schema.json", import.meta.url),
    "utf8",
  );
  assert.equal(committed, sidecarJsonSchema(await fullConfigSchema()));
});

test("bin/v8-flags.json is up to date (run `npm run schema` after changing a role's v8Flags)", async () => {
  const committed = await readFile(new URL("../bin/v8-flags.json", import.meta.url), "utf8");
  assert.equal(committed, `${JSON.stringify(v8FlagsByCommand(roleDefinitions), null, 2)}\n`);
});

test("bin/command-env.json is up to date (run `npm run schema` after changing a role's env)", async () => {
  const committed = await readFile(new URL("../bin/command-env.json", import.meta.url), "utf8");
  assert.equal(committed, `${JSON.stringify(envByCommand(roleDefinitions), null, 2)}\n`);
});

test("the JSON Schema describes every section, rejects unknown keys and keeps the defaults optional", async () => {
  const schema = JSON.parse(sidecarJsonSchema(await fullConfigSchema())) as {
    properties: Record<string, unknown>;
    additionalProperties: boolean;
    required?: string[];
  };
  for (const key of ["admin", "app", "log", "shutdown", ...roleDefinitions.map((r) => r.name)])
    assert.ok(key in schema.properties, key);
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.required, undefined);
});
