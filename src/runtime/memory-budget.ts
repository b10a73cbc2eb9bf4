import type { MemoryPlan } from "./memory-plan-env.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** The logs role's buffers. */
export interface LogsBufferSizes {
  /** Bytes of lines read and not yet acknowledged (`logs.buffer.maxBytes`). */
  bufferMaxBytes: number;
  /** Batches each sink sends at once (`sinks[].maxInFlight`); a retried batch stays among them. */
  maxInFlight: number;
  /** Bytes of one sink batch (`sinks[].batch.maxBytes`). */
  batchMaxBytes: number;
}

/** The proxy's per-connection limits. */
export interface ProxyBufferSizes {
  /** Client connections a listener reads at once; more wait unread (`listeners[].maxConnections` caps a TLS listener). */
  maxConnections: number;
  /** A request body buffered whole so a failed try can be retried (`routes[].retries.bufferBytes`). */
  retryBufferBytes: number;
}

export interface SyncBufferSizes {
  /**
   * Threads a directory target copies small files on (each its own V8 heap, ~18 MB); 0 copies
   * them on the main thread.
   */
  copyThreads: number;
}

/**
 * The buffer sizes the memory plan allows. Without a plan (no container limit) `limited` is
 * false and the sizes are today's defaults, which the config may raise; with one they are caps
 * the roles apply over their config (a smaller configured value stays).
 */
export interface MemoryBudget {
  readonly limited: boolean;
  readonly logs: LogsBufferSizes;
  readonly proxy: ProxyBufferSizes;
  readonly sync: SyncBufferSizes;
}

/** The defaults of the config schemas, used without a limit. */
export const defaultBufferSizes: MemoryBudget = {
  limited: false,
  logs: { bufferMaxBytes: 8 * MiB, maxInFlight: 4, batchMaxBytes: 1 * MiB },
  proxy: { maxConnections: 10_000, retryBufferBytes: 64 * KiB },
  sync: { copyThreads: 2 },
};

/**
 * Derives the buffer sizes from the plan's budget (the share of the limit the process keeps
 * under). Lines in the logs buffer are held several times over (the line, its event, the
 * encoded batch), so the buffer gets a 32nd of the budget; the proxy's connections a third of
 * it at ~32 KiB each (socket, parser and stream state), and the retry buffers of all of them
 * together a quarter.
 *
 * @example
 * deriveMemoryBudget(plan).logs.bufferMaxBytes; // 3 MiB under a 128 MiB limit
 */
export function deriveMemoryBudget(plan: MemoryPlan | undefined): MemoryBudget {
  if (!plan) return defaultBufferSizes;
  const budget = plan.budgetBytes;
  const defaults = defaultBufferSizes;
  const maxConnections = clamp(
    Math.floor(budget / 3 / (32 * KiB)),
    256,
    defaults.proxy.maxConnections,
  );
  return {
    limited: true,
    logs: {
      bufferMaxBytes: clamp(
        roundTo(budget / 32, 64 * KiB),
        256 * KiB,
        defaults.logs.bufferMaxBytes,
      ),
      maxInFlight: clamp(Math.floor(budget / (32 * MiB)), 1, defaults.logs.maxInFlight),
      batchMaxBytes: clamp(roundTo(budget / 128, 64 * KiB), 64 * KiB, defaults.logs.batchMaxBytes),
    },
    proxy: {
      maxConnections,
      retryBufferBytes: clamp(
        roundTo(budget / 4 / maxConnections, KiB),
        8 * KiB,
        defaults.proxy.retryBufferBytes,
      ),
    },
    // A first sync of many small files peaks ~145 MiB on the main thread alone; a thread adds
    // ~18 MB. 128 Mi (96 MiB budget) gets one, 256 Mi and up two, below ~85 Mi none.
    sync: {
      copyThreads: clamp(
        Math.floor((budget - 64 * MiB) / (32 * MiB)),
        0,
        defaults.sync.copyThreads,
      ),
    },
  };
}

/** The smaller of a configured value and the budget's cap (the cap only under a limit). */
export function capped(configured: number, cap: number, budget: MemoryBudget): number {
  return budget.limited ? Math.min(configured, cap) : configured;
}

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, value));
}

function roundTo(value: number, unit: number): number {
  return Math.floor(value / unit) * unit;
}
