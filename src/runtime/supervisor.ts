import { describeError, ErrorCodes, isSidecarError, SidecarError } from "./errors.ts";
import type { Role, RoleState } from "./role.ts";
import type { Logger } from "./telemetry/logger.ts";

export interface SupervisorOptions {
  logger: Logger;
  /** After the deadline, how long each role may still take to let go (default 500 ms). */
  abortGraceMs?: number;
}

export interface RoleStatus {
  name: string;
  state: RoleState;
  ready: boolean;
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  draining: boolean;
  roles: RoleStatus[];
}

/**
 * Starts roles in order and stops them in reverse. While draining, the sidecar reports
 * not ready whatever its roles say, so traffic moves away before anything stops.
 */
export class Supervisor {
  readonly #roles: readonly Role[];
  readonly #states = new Map<string, RoleState>();
  readonly #logger: Logger;
  readonly #abortGraceMs: number;
  #draining = false;
  #stopping: Promise<void> | undefined;

  constructor(roles: readonly Role[], { logger, abortGraceMs = 500 }: SupervisorOptions) {
    this.#abortGraceMs = abortGraceMs;
    const names = new Set<string>();
    for (const role of roles) {
      if (names.has(role.name)) throw new TypeError(`Role "${role.name}" is listed twice`);
      names.add(role.name);
      this.#states.set(role.name, "idle");
    }
    this.#roles = roles;
    this.#logger = logger;
  }

  /** Starts every role in order; if one fails, stops those already started and rethrows. */
  async start(deadline?: AbortSignal): Promise<void> {
    const started: Role[] = [];
    for (const role of this.#roles) {
      if (this.#draining) return; // a shutdown began: start nothing more
      this.#set(role, "starting");
      try {
        await role.start();
        if (this.#stopping) return; // stop() took this role over while it was starting
      } catch (error) {
        if (this.#stopping) return;
        this.#set(role, "failed");
        this.#logger.error(
          { role: role.name, error: describeError(error) },
          "role failed to start",
        );
        await this.#stopAll(started.reverse(), deadline ?? AbortSignal.timeout(10_000));
        throw isSidecarError(error)
          ? error
          : new SidecarError(
              ErrorCodes.ROLE_START,
              `Role "${role.name}" failed to start: ${describeError(error)}`,
              {
                cause: error,
              },
            );
      }
      started.push(role);
      this.#set(role, "running");
      this.#logger.info({ role: role.name }, "role started");
    }
  }

  /** Marks the sidecar not ready; stop() does this too. */
  drain(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Stops every role in reverse order, each bounded by `deadline`. Idempotent. */
  stop(deadline: AbortSignal): Promise<void> {
    this.drain();
    this.#stopping ??= this.#stopAll(
      [...this.#roles].reverse().filter((role) => this.#states.get(role.name) !== "idle"),
      deadline,
    );
    return this.#stopping;
  }

  readiness(): Readiness {
    const roles = this.#roles.map((role): RoleStatus => {
      const state = this.#states.get(role.name)!;
      const ready = state === "running" && role.ready();
      const status: RoleStatus = { name: role.name, state, ready };
      if (!ready) {
        // A role that waits in start() for what it needs (config: its first version) says what.
        const why =
          state === "running" || state === "starting" ? role.notReadyReason?.() : undefined;
        status.reason =
          state === "running" ? (why ?? "not ready") : why ? `${state}: ${why}` : state;
      } else {
        const degraded = role.degradedReason?.();
        if (degraded) status.reason = degraded;
      }
      return status;
    });
    return {
      ready: !this.#draining && roles.every((role) => role.ready),
      draining: this.#draining,
      roles,
    };
  }

  async #stopAll(roles: Role[], deadline: AbortSignal): Promise<void> {
    for (const role of roles) {
      this.#set(role, "stopping");
      // A role gets until the deadline, plus a short abort grace once it has passed to let go
      // of what it holds (abort sends, write its checkpoint, say what was left).
      const outcome = await raceStop(role, deadline, afterGrace(deadline, this.#abortGraceMs));
      if (outcome === "stopped") {
        this.#set(role, "stopped");
        this.#logger.info({ role: role.name }, "role stopped");
      } else if (outcome === "overran") {
        this.#set(role, "failed");
        this.#logger.error(
          { role: role.name, code: ErrorCodes.SHUTDOWN_TIMEOUT },
          `role "${role.name}" did not stop before the shutdown deadline; going on without it`,
        );
      } else {
        this.#set(role, "failed");
        this.#logger.error(
          { role: role.name, error: describeError(outcome.error) },
          "role failed to stop cleanly",
        );
      }
    }
  }

  #set(role: Role, state: RoleState): void {
    this.#states.set(role.name, state);
  }
}

/** A role's stop raced against `limit`: a role that ignores its deadline cannot hold the exit. */
async function raceStop(
  role: Role,
  deadline: AbortSignal,
  limit: AbortSignal,
): Promise<"stopped" | "overran" | { error: unknown }> {
  let onAbort: (() => void) | undefined;
  const overran = new Promise<"overran">((resolve) => {
    if (limit.aborted) return resolve("overran");
    onAbort = () => resolve("overran");
    limit.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(() => role.stop(deadline))
        .then(
          () => "stopped" as const,
          (error: unknown) => ({ error }),
        ),
      overran,
    ]);
  } finally {
    if (onAbort) limit.removeEventListener("abort", onAbort);
  }
}

/** Aborts `graceMs` after `deadline` does. */
function afterGrace(deadline: AbortSignal, graceMs: number): AbortSignal {
  if (deadline.aborted) return AbortSignal.timeout(graceMs);
  const controller = new AbortController();
  deadline.addEventListener(
    "abort",
    () => {
      const timer = setTimeout(() => controller.abort(), graceMs);
      timer.unref();
    },
    { once: true },
  );
  return controller.signal;
}
