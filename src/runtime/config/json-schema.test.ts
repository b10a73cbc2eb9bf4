import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { sidecarJsonSchema } from "./json-schema.ts";

test("schema/sidecar.schema.json is up to date (run `npm run schema` after changing a config schema)", async () => {
  const committed = await readFile(
    new URL("../../../schema/sidecar.schema.json", import.meta.url),
    "utf8",
  );
  assert.equal(committed, sidecarJsonSchema());
});

test("the JSON Schema describes the sections, rejects unknown keys and keeps the defaults optional", () => {
  const schema = JSON.parse(sidecarJsonSchema()) as {
    properties: Record<string, unknown>;
    additionalProperties: boolean;
    required?: string[];
  };
  for (const key of ["admin", "app", "log", "shutdown"]) assert.ok(key in schema.properties, key);
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.required, undefined);
});
