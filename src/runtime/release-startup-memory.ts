import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * Gives back the memory that only the start needed. While the modules load and the config is
 * validated, most of what is allocated survives, so V8 grows the young generation to its
 * maximum (`--max-semi-space-size`, 8 MB for the proxy: 16 MB of semi-spaces) and, with no
 * allocation afterwards, its memory reducer never runs to shrink it again. One full collection
 * that reduces memory, once the roles have started, shrinks it back to 1 MB: the idle proxy
 * 80 → 72 MB (`npm run bench:proxy:memory`). V8 offers that collection only through `gc()`,
 * exposed for one fresh context and hidden again at once; it takes a few milliseconds.
 */
export function releaseStartupMemory(): void {
  const v8: typeof import("node:v8") = require("node:v8");
  const vm: typeof import("node:vm") = require("node:vm");
  let gc: ((options: object) => void) | undefined;
  try {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc");
  } catch {
    // A Node that refuses (e.g. code generation disallowed): the memory stays, the start goes on.
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
  // "last-resort": V8's collection for memory pressure, the one that also shrinks new space.
  if (typeof gc === "function") gc({ type: "major", execution: "sync", flavor: "last-resort" });
}
