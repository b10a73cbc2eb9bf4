/**
 * Gives back the memory that only the start needed. While the modules load and the config is
 * validated, most of what is allocated survives, so V8 grows the young generation to its
 * maximum (`--max-semi-space-size`, 8 MB for the proxy: 16 MB of semi-spaces) and, with no
 * allocation afterwards, its memory reducer never runs to shrink it again. One full collection
 * that reduces memory, once the roles have started, shrinks it back to 1 MB: the idle proxy
 * 80 → 72 MB (`npm run bench:proxy:memory`). V8 offers that collection only through `gc()`,
 * which a command whose role asks for it (the proxy's `v8Flags`) exposes with `--expose-gc` at
 * start; it is emptied on the global object here, once taken, and kept for `releaseMemory()`
 * (runtime/quiet-memory-release.ts). Turning the flag on and off at run time instead (v8
 * setFlagsFromString) made every later request cost 2.5× the CPU at 64 KiB.
 */
export function releaseStartupMemory(): void {
  releaseMemory();
}

type Collect = (options: object) => void;
let collect: Collect | undefined;
let taken = false;

/**
 * One memory-reducing full collection: the young generation shrunk back to its minimum and
 * the old generation compacted. False when the process was started without `--expose-gc`.
 */
export function releaseMemory(): boolean {
  if (!taken) {
    taken = true;
    const global = globalThis as { gc?: Collect };
    if (typeof global.gc === "function") collect = global.gc;
    // --expose-gc defines it writable but not configurable: it can be emptied, not deleted.
    if (global.gc !== undefined) global.gc = undefined;
  }
  if (collect === undefined) return false;
  // "last-resort": V8's collection for memory pressure, the one that also shrinks new space.
  collect({ type: "major", execution: "sync", flavor: "last-resort" });
  return true;
}
