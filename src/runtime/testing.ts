import { once } from "node:events";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { AdminRouteTable } from "./admin/admin-router.ts";
import { systemClock } from "./clock.ts";
import { runtimeConfigSchema } from "./config/schema.ts";
import { defaultBufferSizes } from "./memory-budget.ts";
import type { MemoryPlan } from "./memory-plan-env.ts";
import { type MemoryPressureSignal, noMemoryPressure } from "./memory-pressure.ts";
import type { RoleContext } from "./role-definition.ts";
import { createLogger, type Logger } from "./telemetry/logger.ts";

/** A logger for unit tests that keeps every JSON line it writes, for assertions. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  return { logger, lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/**
 * Polls `condition` (sync or async) until it holds; fails naming `what` after `timeoutMs`.
 * A condition that throws counts as not yet (a server still starting).
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      if (await condition()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A free TCP port on 127.0.0.1 (bound, then released): nothing listens there until someone binds it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * A RoleContext for unit tests: a capturing logger, a fresh registry, an admin route table,
 * the system clock (or the one given), a shutdown signal the test can fire, and a record of
 * requestStop calls.
 */
export function testRoleContext(overrides: Partial<RoleContext> = {}): RoleContext & {
  logLines: () => Record<string, unknown>[];
  routes: AdminRouteTable;
  stopRequests: { reason: string; exitCode: number | undefined }[];
  fireShutdown(): void;
} {
  const { logger, lines } = captureLogger();
  const routes = new AdminRouteTable();
  const shutdown = new AbortController();
  const stopRequests: { reason: string; exitCode: number | undefined }[] = [];
  return {
    logger,
    registry: new Registry(),
    admin: routes,
    clock: systemClock,
    shutdown: shutdown.signal,
    config: runtimeConfigSchema.parse({}),
    requestStop: (reason, exitCode) => {
      stopRequests.push({ reason, exitCode });
    },
    app: undefined,
    memory: { budget: defaultBufferSizes, pressure: noMemoryPressure },
    ...overrides,
    logLines: lines,
    routes,
    stopRequests,
    fireShutdown: () => shutdown.abort(),
  };
}

/** A memory-pressure signal a test turns on and off, for the roles that hold back under it. */
export function switchablePressure(
  active = false,
): MemoryPressureSignal & { set(active: boolean): void } {
  const listeners = new Set<(active: boolean) => void>();
  return {
    get active() {
      return active;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      active = value;
      for (const listener of listeners) listener(value);
    },
  };
}

/** The memory plan of a container limited to `limitMiB` (a 75 % budget), for budget tests. */
export function testMemoryPlan(limitMiB: number): MemoryPlan {
  const MiB = 1024 * 1024;
  return {
    limitBytes: limitMiB * MiB,
    source: "test",
    budgetShare: 0.75,
    budgetBytes: limitMiB * 0.75 * MiB,
    maxOldSpaceMiB: 44,
    semiSpaceMiB: 4,
    tooSmall: false,
  };
}
