import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { parse } from "yaml";
import { logsConfigSchema } from "../src/logs/logs-config.ts";
import { parserComponents } from "../src/logs/parsers/index.ts";
import { sinkComponents } from "../src/logs/sinks/index.ts";
import { transformComponents } from "../src/logs/transforms/index.ts";

const doc = await readFile(new URL("../docs/logs.md", import.meta.url), "utf8");

test("every `logs:` example in docs/logs.md is a valid logs config", () => {
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as unknown);
  const examples = blocks.filter(
    (b): b is { logs: unknown } => !!b && typeof b === "object" && "logs" in b,
  );
  assert.ok(examples.length > 0, "docs/logs.md has at least one full example");
  for (const example of examples) {
    const result = logsConfigSchema.safeParse(example.logs);
    assert.ok(result.success, JSON.stringify(result.error?.issues));
  }
});

test("docs/logs.md names every parser, transform and sink type", () => {
  for (const { type } of [...parserComponents, ...transformComponents, ...sinkComponents])
    assert.ok(doc.includes(`\`${type}\``), `docs/logs.md mentions \`${type}\``);
});
