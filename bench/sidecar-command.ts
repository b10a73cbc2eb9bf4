/**
 * How the benchmarks start `sidecar <command>`: as an installed one runs, the bundle
 * `npm run build` makes (built here, in the same run) under the V8 flags the `sidecar` command
 * gives that command (bin/v8-flags.js), with its environment (bin/command-env.js: start the
 * child with `{ ...process.env, ...env }`) and with V8's compile cache, as bin/sidecar.js
 * keeps it. BENCH_NODE_FLAGS replaces those flags (e.g. to compare young-generation sizes, or
 * to profile with --cpu-prof); a variable set in the bench's own environment (e.g.
 * UV_THREADPOOL_SIZE=4) wins, as it does for the `sidecar` command.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandEnvFor } from "../bin/command-env.js";
import { v8FlagsFor } from "../bin/v8-flags.js";
import { buildBundle } from "../scripts/build.ts";

const root = new URL("../", import.meta.url).pathname;

export async function sidecarCommand(
  command: string,
): Promise<{ args: string[]; nodeFlags: string[]; env: Record<string, string> }> {
  await buildBundle();
  const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? v8FlagsFor(command);
  return {
    args: [...nodeFlags, `${root}dist/sidecar.js`],
    nodeFlags,
    env: {
      ...commandEnvFor(command, process.env),
      // bin/sidecar.js keeps V8's compile cache under the temp dir; dist/ run directly does not.
      ...(process.env.NODE_COMPILE_CACHE
        ? {}
        : { NODE_COMPILE_CACHE: join(tmpdir(), "sidecar-bench-compile-cache") }),
    },
  };
}
