// Regenerates schema/sidecar.schema.json from the zod schema (a test fails when it is stale).
import { writeFile } from "node:fs/promises";
import { sidecarJsonSchema } from "../src/runtime/config/json-schema.ts";

const target = new URL("../schema/sidecar.schema.json", import.meta.url);
await writeFile(target, sidecarJsonSchema());
console.log(`wrote ${target.pathname}`);
