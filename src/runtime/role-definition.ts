import type { z } from "zod";
import type { AdminRouter } from "./admin/admin-router.ts";
import type { Clock } from "./clock.ts";
import type { RuntimeConfig } from "./config/schema.ts";
import type { MemoryBudget } from "./memory-budget.ts";
import type { MemoryPressureSignal } from "./memory-pressure.ts";
import type { QuietMemoryRelease } from "./quiet-memory-release.ts";
import type { Role } from "./role.ts";
import type { Logger } from "./telemetry/logger.ts";
import type { Registry } from "./telemetry/metrics-registry.ts";

/**
 * When a role starts relative to the app (local mode and native sidecars alike):
 * - `before-app`: before the app starts and stops after it (config, sync restore, logs);
 * - `after-app`: once the app is ready, and drains before it stops (proxy);
 * - `standalone`: only through its own command, never part of `sidecar run` (node, webhook).
 */
export type RolePhase = "before-app" | "after-app" | "standalone";

/** One option of a role command, e.g. `{ flags: "--listen <address>", description: "…" }`. */
export interface RoleOption {
  /** Commander syntax: `-c, --config <file>`, `--once`, `--path <glob>`. */
  flags: string;
  description: string;
  /** The option may be given several times; its value is then an array. */
  repeatable?: boolean;
}

/** What a role command's action may do besides building overlays. */
export interface RoleCommandKit {
  /** Runs the sidecar with this config file and overlay (the same runtime `sidecar run` uses, without an app). */
  runSidecar(options: {
    configPath: string | undefined;
    overlay?: Record<string, unknown>;
    /** This config file with this overlay, already loaded by `loadConfig` (not loaded again). */
    loaded?: Awaited<ReturnType<RoleCommandKit["loadConfig"]>>;
  }): Promise<number>;
  /** The config file named by -c, else SIDECAR_CONFIG, else undefined. */
  configPath(flag: string | undefined): string | undefined;
  /**
   * Loads and validates a config file (with an overlay) against the composed schema: the
   * runtime's sections and the role sections the file and overlay have.
   */
  loadConfig(
    configPath: string | undefined,
    overlay?: Record<string, unknown>,
  ): Promise<{
    config: RuntimeConfig & Record<string, unknown>;
    path: string | undefined;
    hash: string;
  }>;
}

/** A subcommand of a role command, e.g. `sidecar sync restore`. */
export interface RoleSubcommand {
  name: string;
  description: string;
  options?: readonly RoleOption[];
  examples?: readonly string[];
  /** Resolves with the exit code. */
  action(flags: Record<string, unknown>, kit: RoleCommandKit): Promise<number>;
}

/**
 * A role's own command (`sidecar proxy`, `sidecar logs`, …). Every role command also takes
 * `-c/--config` and `--admin-address`; the runtime adds them.
 */
export interface RoleCommand {
  description: string;
  usage?: string;
  options: readonly RoleOption[];
  examples?: readonly string[];
  /**
   * The config overlay the flags stand for (merged over the file and validated with it), or
   * undefined when no flag was given. Throws a SidecarError (USAGE) for bad flags.
   */
  overlay(
    flags: Record<string, unknown>,
    context: { configPath: string | undefined },
  ): Record<string, unknown> | undefined;
  /** The message when neither flags nor the config file give this role anything to do. */
  nothingToDo: string;
  subcommands?: readonly RoleSubcommand[];
}

/**
 * What the runtime hands a role when it builds it: its dependencies, never module singletons.
 */
export interface RoleContext {
  /** A child logger with `role` set. */
  logger: Logger;
  /** The one Prometheus registry; name metrics `sidecar_<role>_<thing>_<unit>`. */
  registry: Registry;
  /** Admin endpoints and the role's panel on the status page. */
  admin: AdminRouter;
  /** Time and timers; tests drive a manual clock. */
  clock: Clock;
  /** Aborted when the sidecar begins to shut down. */
  shutdown: AbortSignal;
  /** The whole validated config, for the runtime's sections (app, admin) a role may read. */
  config: RuntimeConfig;
  /** Asks the runtime for a graceful shutdown (e.g. `config --once` has published). */
  requestStop(reason: string, exitCode?: number): void;
  /** The app in local mode (`sidecar run`), for roles that signal or restart it. */
  app: AppHandle | undefined;
  /** The buffer sizes the memory plan allows, and when to hold back (docs/operations.md, Memory). */
  memory: RoleMemory;
}

/** What a role sizes its buffers from and when it pauses reading. */
export interface RoleMemory {
  budget: MemoryBudget;
  pressure: MemoryPressureSignal;
  /**
   * Where a role that serves traffic reports what it has in flight (`track`) and when that falls
   * to zero (`quiet`), so the memory a busy spell grew is given back once all is quiet.
   * Undefined in tests and embedders that do not give memory back.
   */
  release?: Pick<QuietMemoryRelease, "track" | "quiet"> | undefined;
}

/** What a role may do to the app that `sidecar run` supervises. */
export interface AppHandle {
  /** Sends a signal to the app's process group; false when the app is not running. */
  signal(signal: NodeJS.Signals): boolean;
  /** Stops the app (SIGTERM → stop timeout → SIGKILL) and starts it again. */
  restart(reason: string): Promise<void>;
  /** Whether the app passed its health probe. */
  ready(): boolean;
}

/**
 * A role as a plug-in: everything the runtime and the CLI need to know about it, declared once
 * in the role's own folder. The CLI composes one list of these (src/cli/roles.ts); the runtime
 * builds the config schema, the commands and the start/stop order from that list.
 *
 * @example
 * export const proxyRoleDefinition = defineRole({
 *   name: "proxy",
 *   description: "reverse proxy in front of the app",
 *   loadSchema: async () => (await import("./proxy-config.ts")).proxyConfigSchema,
 *   phase: "after-app",
 *   command: { … },
 *   create: async (section, ctx) => (await import("./proxy-role.ts")).createProxyRole(section, ctx),
 * });
 */
export interface RoleDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The role's name: its config section, its command, its `role` log and metric label. */
  readonly name: string;
  /** One line for `sidecar --help` and the docs. */
  readonly description: string;
  /**
   * Imports the role's config-schema module and returns the schema of its section (the section
   * itself is optional in the file). A dynamic import, never a static one: a command builds
   * only the schemas of the sections its config has (the bundle puts each in its own chunk).
   */
  loadSchema(): Promise<Schema>;
  readonly phase: RolePhase;
  readonly command?: RoleCommand;
  /** V8 flags `sidecar <name>` runs with (bin/v8-flags.json is generated from these). */
  readonly v8Flags?: readonly string[];
  /**
   * Environment variables `sidecar <name>` starts with, and `run`/`start` (which may run this
   * role), unless the user set them: what must be fixed before the first use, like libuv's
   * UV_THREADPOOL_SIZE (bin/command-env.json is generated from these).
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Builds the role from its validated section. A role imports its implementation here
   * (`await import("./x-role.ts")`), not at the top of its definition: the bundle then loads
   * a role's code, and its dependencies, only when a config uses it (scripts/build.ts).
   */
  create(section: z.infer<Schema>, ctx: RoleContext): Role | Promise<Role>;
}

/** Declares a role; a typed identity function so `create` sees its section's type. */
export function defineRole<Schema extends z.ZodType>(
  definition: RoleDefinition<Schema>,
): RoleDefinition<Schema> {
  return definition;
}

/** A definition list with the section types erased, as the runtime holds it. */
export type AnyRoleDefinition = RoleDefinition<z.ZodType>;
