/** The levels an event's `level` may hold once normalized. */
export const levels = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type Level = (typeof levels)[number];

const aliases: Record<string, Level> = {
  trace: "trace",
  trc: "trace",
  t: "trace",
  finest: "trace",
  debug: "debug",
  dbg: "debug",
  d: "debug",
  fine: "debug",
  finer: "debug",
  verbose: "debug",
  v: "debug",
  info: "info",
  inf: "info",
  i: "info",
  information: "info",
  informational: "info",
  notice: "info",
  n: "info",
  warn: "warn",
  warning: "warn",
  wrn: "warn",
  w: "warn",
  error: "error",
  err: "error",
  eror: "error",
  e: "error",
  severe: "error",
  fatal: "fatal",
  f: "fatal",
  crit: "fatal",
  critical: "fatal",
  c: "fatal",
  alert: "fatal",
  emerg: "fatal",
  emergency: "fatal",
  panic: "fatal",
};

/** pino/bunyan numeric levels. */
const numeric: [number, Level][] = [
  [60, "fatal"],
  [50, "error"],
  [40, "warn"],
  [30, "info"],
  [20, "debug"],
  [10, "trace"],
];

/**
 * Maps the many spellings of a level to one of trace, debug, info, warn, error, fatal;
 * undefined when the value is not a level.
 *
 * @example
 * normalizeLevel("WARNING"); // "warn"
 * normalizeLevel("W"); // "warn"
 * normalizeLevel(50); // "error" (pino)
 */
export function normalizeLevel(value: unknown): Level | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    for (const [min, level] of numeric) if (value >= min) return level;
    return undefined;
  }
  if (typeof value !== "string") return undefined;
  const key = value.trim().toLowerCase();
  if (/^\d+$/.test(key)) return normalizeLevel(Number(key));
  return aliases[key];
}

/** The rank of a level, for "drop below" comparisons (trace 0 … fatal 5); -1 when unknown. */
export function levelRank(level: string | undefined): number {
  return level === undefined ? -1 : levels.indexOf(level as Level);
}
