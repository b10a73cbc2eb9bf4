#!/usr/bin/env node
// The `sidecar` command. It first re-executes itself, in the same process (same PID, so signals
// and the exit code are unchanged), with the V8 flags of its command (bin/v8-flags.js): they
// must be set before the heap exists. A user's own --max-semi-space-size (on the command line
// or in NODE_OPTIONS) wins, and so does a Node without process.execve (before 22.15).
// In a checkout, run the TypeScript sources directly (Node >= 22.18 strips types); in an
// installed package, where src/ is absent, run the bundle `npm run build` made.
import { existsSync } from "node:fs";
import { v8FlagsFor } from "./v8-flags.js";

const tuned = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(" ")].some((arg) =>
  arg.startsWith("--max-semi-space-size"),
);
if (!tuned && typeof process.execve === "function") {
  const [execPath, script, ...args] = process.argv;
  try {
    process.execve(process.execPath, [
      execPath,
      ...v8FlagsFor(args[0]),
      ...process.execArgv,
      script,
      ...args,
    ]);
  } catch {
    // Not replaced (a sandbox that forbids exec): run as we are, with Node's default heap.
  }
}

const fromSource = new URL("../src/cli/entry.ts", import.meta.url);
const useSource = existsSync(fromSource) && process.features.typescript;
await import(useSource ? fromSource.href : new URL("../dist/sidecar.js", import.meta.url).href);
