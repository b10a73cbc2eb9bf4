/** See memory-plan.js. The runtime reads the plan through these types (src/runtime/memory-plan-env.ts). */
export interface MemoryLimit {
  bytes: number;
  source: string;
}
export interface MemoryPlan {
  limitBytes: number;
  source: string;
  budgetShare: number;
  budgetBytes: number;
  maxOldSpaceMiB: number;
  semiSpaceMiB: number;
  tooSmall: boolean;
}
export const budgetShare: number;
export function parseSize(text: string | undefined): number | undefined;
export function memoryLimit(options?: {
  env?: Record<string, string | undefined>;
  readFile?: (path: string, encoding: "utf8") => string;
  cgroupRoot?: string;
  procSelfCgroup?: string;
}): MemoryLimit | undefined;
export function memoryPlan(
  limit: MemoryLimit | undefined,
  defaultSemiSpaceMiB: number,
): MemoryPlan | undefined;
