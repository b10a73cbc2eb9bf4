import { describeError, ErrorCodes, isSidecarError, SidecarError } from "./errors.ts";
import type { Role, RoleState } from "./role.ts";
import type { Logger } from "./telemetry/logger.ts";

export interface SupervisorOptions {
  logger: Logger;
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
  #draining = false;
  #stopping: Promise<void> | undefined;

  constructor(roles: readonly Role[], { logger }: SupervisorOptions) {
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
      if (!ready)
        status.reason = state === "running" ? (role.notReadyReason?.() ?? "not ready") : state;
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
      if (deadline.aborted) {
        this.#logger.error(
          { role: role.name },
          "shutdown deadline passed before this role could stop",
        );
        this.#set(role, "failed");
        continue;
      }
      this.#set(role, "stopping");
      try {
        await role.stop(deadline);
        this.#set(role, "stopped");
        this.#logger.info({ role: role.name }, "role stopped");
      } catch (error) {
        this.#set(role, "failed");
        this.#logger.error(
          { role: role.name, error: describeError(error) },
          "role failed to stop cleanly",
        );
      }
    }
  }

  #set(role: Role, state: RoleState): void {
    this.#states.set(role.name, state);
  }
}
