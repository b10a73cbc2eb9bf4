#!/usr/bin/env node
// In a checkout, run the TypeScript sources directly (Node >= 22.18 strips types); in an
// installed package, where src/ is absent, run the compiled dist/.
import { existsSync } from "node:fs";

const fromSource = new URL("../src/cli/entry.ts", import.meta.url);
const useSource = existsSync(fromSource) && process.features.typescript;
await import(useSource ? fromSource.href : new URL("../dist/cli/entry.js", import.meta.url).href);
