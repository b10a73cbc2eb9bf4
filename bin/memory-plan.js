// The memory plan: how much of its container's memory limit the sidecar lets V8 use. Read
// before any TypeScript loads (V8's heap limits are set when the process starts), so it is
// plain JavaScript beside bin/sidecar.js. Without a limit the plan is undefined and today's
// defaults apply.
import { readFileSync } from "node:fs";

/** The share of the limit the plan keeps the process under (the rest is headroom). */
export const budgetShare = 0.75;
/** What the process takes besides the V8 heap (code, Node's own memory, sockets, buffers). */
const baselineMiB = 40;
/** The smallest old space the plan gives; a limit that leaves less is reported as too small. */
const minOldSpaceMiB = 24;
const unlimited = 2 ** 60;

/** A size such as "128Mi", "1Gi", "256M", "512k" or plain bytes; undefined when unreadable. */
export function parseSize(text) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(k|ki|m|mi|g|gi|t|ti)?b?\s*$/i.exec(String(text ?? ""));
  if (!match) return undefined;
  const units = {
    k: 1e3,
    ki: 2 ** 10,
    m: 1e6,
    mi: 2 ** 20,
    g: 1e9,
    gi: 2 ** 30,
    t: 1e12,
    ti: 2 ** 40,
  };
  const unit = match[2] ? units[match[2].toLowerCase()] : 1;
  return Math.floor(Number(match[1]) * unit);
}

function read(path, readFile) {
  try {
    return readFile(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * The container's memory limit: SIDECAR_MEMORY_LIMIT, else cgroup v2 `memory.max`, else
 * cgroup v1 `memory.limit_in_bytes`, each for the process's own cgroup and the mounted root.
 * Undefined when there is none ("max", or v1's near-2^63 "unlimited").
 */
export function memoryLimit({
  env = process.env,
  readFile = readFileSync,
  cgroupRoot = "/sys/fs/cgroup",
  procSelfCgroup = "/proc/self/cgroup",
} = {}) {
  if (env.SIDECAR_MEMORY_LIMIT) {
    const bytes = parseSize(env.SIDECAR_MEMORY_LIMIT);
    if (bytes && bytes > 0) return { bytes, source: "SIDECAR_MEMORY_LIMIT" };
  }
  const groups = (read(procSelfCgroup, readFile) ?? "").split("\n");
  const v2 = groups.find((line) => line.startsWith("0::"))?.slice(3);
  const v1 = groups
    .find((line) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(line))
    ?.replace(/^[^:]*:[^:]*:/, "");
  const candidates = [
    ...(v2 !== undefined ? [[`${cgroupRoot}${v2 === "/" ? "" : v2}/memory.max`, "cgroup v2"]] : []),
    [`${cgroupRoot}/memory.max`, "cgroup v2"],
    ...(v1 !== undefined
      ? [[`${cgroupRoot}/memory${v1 === "/" ? "" : v1}/memory.limit_in_bytes`, "cgroup v1"]]
      : []),
    [`${cgroupRoot}/memory/memory.limit_in_bytes`, "cgroup v1"],
  ];
  for (const [path, source] of candidates) {
    const text = read(path, readFile);
    if (text === undefined) continue;
    if (text === "max") return undefined;
    const bytes = Number(text);
    if (Number.isFinite(bytes) && bytes > 0)
      return bytes >= unlimited ? undefined : { bytes, source };
  }
  return undefined;
}

/**
 * The V8 heap sizes for a limit: the young generation no larger than the command's default
 * nor a 32nd of the limit, and an old space that keeps the whole process under
 * `budgetShare` of the limit after the baseline.
 */
export function memoryPlan(limit, defaultSemiSpaceMiB) {
  if (!limit) return undefined;
  const limitMiB = limit.bytes / 2 ** 20;
  const semiSpaceMiB = Math.max(1, Math.min(defaultSemiSpaceMiB, Math.floor(limitMiB / 32)));
  const budgetMiB = Math.floor(limitMiB * budgetShare);
  const room = budgetMiB - baselineMiB - 3 * semiSpaceMiB;
  return {
    limitBytes: limit.bytes,
    source: limit.source,
    budgetShare,
    budgetBytes: budgetMiB * 2 ** 20,
    maxOldSpaceMiB: Math.max(minOldSpaceMiB, room),
    semiSpaceMiB,
    tooSmall: room < minOldSpaceMiB,
  };
}
