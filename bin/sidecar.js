#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8: Node 24 lets V8's young generation grow to 128 MB under load, and
// the proxy's per-request garbage (and the 64 KiB read buffers it keeps alive) filled it: peak
// RSS 215 MB at 50 connections, 300 MB at 1000. With 8 MB semi-spaces: 135 MB and 165–180 MB,
// at equal or lower CPU per request (docs/proxy.md, Performance). Images that start
// dist/sidecar.js directly should pass the same flag (or NODE_OPTIONS=--max-semi-space-size=8).
// In a checkout, run the TypeScript sources directly (Node >= 22.18 strips types); in an
// installed package, where src/ is absent, run the bundle `npm run build` made.
import { existsSync } from "node:fs";

const fromSource = new URL("../src/cli/entry.ts", import.meta.url);
const useSource = existsSync(fromSource) && process.features.typescript;
await import(useSource ? fromSource.href : new URL("../dist/sidecar.js", import.meta.url).href);
