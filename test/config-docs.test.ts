import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { parse } from "yaml";
import { configSchema } from "../src/cli/roles.ts";
import { configSectionSchema } from "../src/config-sync/config-section.ts";
import { loadConfigFile } from "../src/runtime/config/load-config.ts";

test("every `config:` example in docs/config.md is a valid config section", async () => {
  const doc = await readFile(new URL("../docs/config.md", import.meta.url), "utf8");
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as unknown);
  const examples = blocks.filter(
    (b): b is { config: unknown } => !!b && typeof b === "object" && "config" in b,
  );
  assert.ok(examples.length >= 2, "docs/config.md has full examples");
  for (const example of examples) {
    const result = configSectionSchema.safeParse(example.config);
    assert.ok(result.success, JSON.stringify(result.error?.issues));
  }
});

test("the sidecar.yaml of every config example is valid", async () => {
  for (const name of ["configmap", "etcd"]) {
    const path = new URL(`../examples/config/${name}/sidecar.yaml`, import.meta.url).pathname;
    const loaded = await loadConfigFile(path, { schema: configSchema, env: {} });
    assert.ok(loaded.config.config, `${name} has a config section`);
  }
});
