import { crypto } from "../builtins.ts";
import type { RuntimeConfig } from "./schema.ts";

/** The validated config: the runtime's sections, typed, plus each role's section by name. */
export type SidecarConfig = RuntimeConfig & Record<string, unknown>;

export interface LoadedConfig {
  config: SidecarConfig;
  /** The file it came from, or undefined for the built-in defaults. */
  path: string | undefined;
  /** A short hash of the effective config, shown in /status to tell which config is live. */
  hash: string;
}

/** Reads and validates a config file with an overlay: in this process, or in a process of its own. */
export type ConfigLoader = (
  path: string | undefined,
  options: {
    env?: Readonly<Record<string, string | undefined>>;
    overlay?: Record<string, unknown> | undefined;
  },
) => Promise<LoadedConfig>;

/**
 * The loaded config with its hash computed when first read (by /status): hashing needs
 * node:crypto, which nothing else in an idle proxy loads before its first request.
 */
export function withConfigHash(config: SidecarConfig, path: string | undefined): LoadedConfig {
  let hash: string | undefined;
  return {
    config,
    path,
    get hash() {
      hash ??= crypto
        .createHash("sha256")
        .update(JSON.stringify(config))
        .digest("hex")
        .slice(0, 12);
      return hash;
    },
  };
}
