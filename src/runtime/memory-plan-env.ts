import type { MemoryPlan } from "../../bin/memory-plan.js";

export type { MemoryPlan };

/**
 * The plan handed over in SIDECAR_MEMORY_PLAN when the process started under a memory limit;
 * undefined without a limit (or when started other than through bin/sidecar.js).
 */
export function readMemoryPlan(env: NodeJS.ProcessEnv = process.env): MemoryPlan | undefined {
  const text = env.SIDECAR_MEMORY_PLAN;
  if (!text) return undefined;
  try {
    const plan = JSON.parse(text) as MemoryPlan;
    return typeof plan.limitBytes === "number" && typeof plan.maxOldSpaceMiB === "number"
      ? plan
      : undefined;
  } catch {
    return undefined;
  }
}
