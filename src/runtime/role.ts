import type { AppOutputTap } from "./app/app-output.ts";

/**
 * The contract every role (and the app itself, in local mode) fulfils. The supervisor starts
 * them in order and stops them in reverse.
 */
export interface Role {
  readonly name: string;
  /** Resolves when the role is serving. Rejects with a SidecarError when it cannot start. */
  start(): Promise<void>;
  /** Feeds /readyz. */
  ready(): boolean;
  /** Why the role is not ready, for the /readyz body. */
  readonly notReadyReason?: () => string | undefined;
  /**
   * A problem worth showing while the role is ready (config: the newest version failed and the
   * last good one is served); /readyz and the status page show it without failing readiness.
   */
  readonly degradedReason?: () => string | undefined;
  /** Where the app's stdout/stderr go besides the terminal (the logs role's stdout source). */
  readonly appOutput?: AppOutputTap | undefined;
  /** Drain, flush, checkpoint; must finish before `deadline` fires. Idempotent. */
  stop(deadline: AbortSignal): Promise<void>;
}

export type RoleState = "idle" | "starting" | "running" | "stopping" | "stopped" | "failed";
