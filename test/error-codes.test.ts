import assert from "node:assert/strict";
import { glob, readFile } from "node:fs/promises";
import { test } from "node:test";

/** Every `error-codes.ts` under src/ (the runtime's and each role's) exports objects of codes. */
async function definedCodes(): Promise<Set<string>> {
  const codes = new Set<string>();
  const src = new URL("../src/", import.meta.url);
  for await (const file of glob("**/error-codes.ts", { cwd: src.pathname })) {
    const module = (await import(new URL(file, src).href)) as Record<string, unknown>;
    for (const exported of Object.values(module)) {
      if (exported && typeof exported === "object") {
        for (const value of Object.values(exported))
          if (typeof value === "string") codes.add(value);
      }
    }
  }
  return codes;
}

test("every error code has a row in docs/errors.md and every row is a real code", async () => {
  const doc = await readFile(new URL("../docs/errors.md", import.meta.url), "utf8");
  const documented = new Set(
    [...doc.matchAll(/^\| `(SIDECAR_ERR_[A-Z0-9_]+)` *\|/gm)].map((m) => m[1]!),
  );
  const defined = await definedCodes();
  assert.ok(defined.size >= 10, "the runtime's codes were found");
  assert.deepEqual(
    [...defined].filter((code) => !documented.has(code)),
    [],
    "codes missing from docs/errors.md",
  );
  assert.deepEqual(
    [...documented].filter((code) => !defined.has(code)),
    [],
    "documented codes that do not exist",
  );
});

test("every code a source file raises is declared in an error-codes.ts", async () => {
  const defined = await definedCodes();
  const src = new URL("../src/", import.meta.url);
  const missing: string[] = [];
  for await (const file of glob("**/*.ts", { cwd: src.pathname })) {
    const text = await readFile(new URL(file, src), "utf8");
    for (const [code] of text.matchAll(/SIDECAR_ERR_[A-Z0-9_]+/g))
      if (!defined.has(code)) missing.push(`${file}: ${code}`);
  }
  assert.deepEqual(missing, []);
});
