import type { AnyRoleDefinition } from "./role-definition.ts";

/**
 * The V8 flags of each role command, as bin/v8-flags.json holds them: `bin/sidecar.js` reads
 * that file before any TypeScript loads (V8 flags must be set when the process starts), so it
 * is generated from the definitions (`npm run schema`) and a test keeps it current.
 */
export function v8FlagsByCommand(
  definitions: readonly AnyRoleDefinition[],
): Record<string, readonly string[]> {
  const flags: Record<string, readonly string[]> = {};
  for (const definition of definitions)
    if (definition.v8Flags?.length) flags[definition.name] = definition.v8Flags;
  return flags;
}
