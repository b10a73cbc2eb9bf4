#!/usr/bin/env node
// The `sidecar` command. It first re-executes itself, in the same process (same PID, so signals
// and the exit code are unchanged), with the V8 flags of its command (bin/v8-flags.js) and, in
// a container with a memory limit, heap sizes that fit it (bin/memory-plan.js): they must be
// set before the heap exists. A user's own --max-semi-space-size / --max-old-space-size (on the
// command line or in NODE_OPTIONS) wins, and so does a Node without process.execve (< 22.15).
// In a checkout, run the TypeScript sources directly (Node >= 22.18 strips types); in an
// installed package, where src/ is absent, run the bundle `npm run build` made.
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandEnvFor } from "./command-env.js";
import { memoryLimit, memoryPlan } from "./memory-plan.js";
import { v8FlagsFor } from "./v8-flags.js";

// Nothing has used libuv's thread pool yet (the imports above read synchronously). The names
// added are kept in SIDECAR_COMMAND_ENV: an app `sidecar run` starts gets the environment
// without them (src/runtime/command-env.ts, appEnvironment).
const commandEnv = commandEnvFor(process.argv[2]);
Object.assign(process.env, commandEnv);
if (Object.keys(commandEnv).length > 0)
  process.env.SIDECAR_COMMAND_ENV = Object.keys(commandEnv).join(",");

const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(" ")];
const userSet = (flag) => given.some((arg) => arg.startsWith(flag));
if (!userSet("--max-semi-space-size") && typeof process.execve === "function") {
  const [execPath, script, ...args] = process.argv;
  const flags = v8FlagsFor(args[0]);
  const defaultSemi = Number(
    /=(\d+)/.exec(flags.find((f) => f.startsWith("--max-semi-space-size")) ?? "")?.[1] ?? 8,
  );
  const plan = memoryPlan(memoryLimit(), defaultSemi);
  const heap = plan
    ? [
        ...flags.filter((f) => !f.startsWith("--max-semi-space-size")),
        `--max-semi-space-size=${plan.semiSpaceMiB}`,
        ...(userSet("--max-old-space-size") ? [] : [`--max-old-space-size=${plan.maxOldSpaceMiB}`]),
      ]
    : flags;
  try {
    process.execve(
      process.execPath,
      [execPath, ...heap, ...process.execArgv, script, ...args],
      plan ? { ...process.env, SIDECAR_MEMORY_PLAN: JSON.stringify(plan) } : process.env,
    );
  } catch {
    // Not replaced (a sandbox that forbids exec): run as we are, with Node's default heap.
  }
}

// V8's code cache on disk (Node's compile cache): the bundle starts in less time from the second
// run on. In NODE_COMPILE_CACHE when set (Node then enabled it already), else in a directory
// of ours under the temp dir that only we can write. Silently none where it cannot be made
// (a read-only filesystem), and none when NODE_DISABLE_COMPILE_CACHE is set.
if (!process.env.NODE_COMPILE_CACHE && typeof module.enableCompileCache === "function") {
  try {
    const dir = join(tmpdir(), `sidecar-compile-cache-${process.getuid?.() ?? "user"}`);
    try {
      mkdirSync(dir, { mode: 0o700 }); // not recursive: the temp dir exists, or no cache
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    const stat = lstatSync(dir);
    const ours = stat.isDirectory() && (stat.mode & 0o022) === 0;
    if (ours && (process.getuid === undefined || stat.uid === process.getuid()))
      module.enableCompileCache(dir);
  } catch {
    // No cache: the bundle is compiled as without one.
  }
}

const fromSource = new URL("../src/cli/entry.ts", import.meta.url);
const useSource = existsSync(fromSource) && process.features.typescript;
await import(useSource ? fromSource.href : new URL("../dist/sidecar.js", import.meta.url).href);
