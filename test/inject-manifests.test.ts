import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { kubernetesSchemaVersion, schemaProblems } from "./helpers/kube-schema.ts";

const golden = new URL("../src/injector/testdata/golden/", import.meta.url);

// What `sidecar inject` writes must be what the API server accepts: every golden output
// (each kind, native and classic) against the Kubernetes OpenAPI schemas, unknown fields too.
test(`every injected manifest is valid against the Kubernetes ${kubernetesSchemaVersion} schemas`, async () => {
  const files = (await readdir(golden)).filter((name) => name.endsWith(".yaml"));
  assert.ok(files.length >= 10, "the golden files are there");
  const problems: string[] = [];
  for (const file of files) {
    const text = await readFile(new URL(file, golden), "utf8");
    for (const doc of parseAllDocuments(text)) {
      const object = doc.toJS() as Record<string, unknown> & { kind?: string; items?: unknown[] };
      const objects =
        object.kind === "List" ? (object.items as Record<string, unknown>[]) : [object];
      for (const item of objects)
        for (const problem of await schemaProblems(item)) problems.push(`${file}: ${problem}`);
    }
  }
  assert.deepEqual(problems, []);
});
