import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { test } from "node:test";

// Which modules load: recorded from here on (this file imports nothing of the program's
// statically, so the CLI's own graph is what loads below).
const loaded = new Set<string>();
/** Every import a role definition makes, in order: at its start, and in its `loadSchema`. */
const importedByDefinitions: string[] = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    loaded.add(result.url);
    if (context.parentURL?.endsWith("/role-definition.ts")) importedByDefinitions.push(result.url);
    return result;
  },
});

test("the CLI starts without loading any role's config schema; a config loads only its sections'", async () => {
  const { roleDefinitions } = await import("../src/cli/roles.ts");
  await import("../src/cli/main.ts");
  const atStart = new Set(loaded);
  const { composeConfigSchema } = await import("../src/runtime/config/schema.ts");

  for (const definition of roleDefinitions) {
    const before = importedByDefinitions.length;
    await definition.loadSchema();
    const imported = importedByDefinitions.slice(before);
    assert.ok(imported.length > 0, `${definition.name}: loadSchema imports its schema module`);
    for (const url of imported)
      assert.ok(!atStart.has(url), `${definition.name}: ${url} is loaded at the CLI's start`);
  }

  // The proxy's config builds the proxy's schema, and leaves the others' keys known.
  const schema = await composeConfigSchema(roleDefinitions, ["admin", "proxy"]);
  const result = schema.safeParse({ proxy: { listeners: [], clusters: {} }, logs: {} });
  assert.equal(result.success, false, "a section whose schema was not loaded is not accepted");
});
