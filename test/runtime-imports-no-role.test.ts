import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const runtimeDir = new URL("../src/runtime/", import.meta.url).pathname;

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

// The runtime is what every role shares; it learns of roles only through the definitions the
// CLI hands it (docs/architecture.md). An import from a role folder would make adding a role
// an edit of the runtime again.
const srcDir = new URL("../src/", import.meta.url).pathname;

test("src/runtime/ imports nothing from src/ outside itself (no role, no CLI)", async () => {
  const offenders: string[] = [];
  for await (const file of sourceFiles(runtimeDir)) {
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = resolve(dirname(file), match[1]!);
      const inSrc = !relative(srcDir, target).startsWith("..");
      if (inSrc && relative(runtimeDir, target).startsWith(".."))
        offenders.push(`${relative(runtimeDir, file)} imports ${match[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});
