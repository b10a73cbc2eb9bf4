import { spawnSync } from "node:child_process";
import module from "node:module";
import { deserialize } from "node:v8";
import {
  type ConfigLoader,
  type LoadedConfig,
  type SidecarConfig,
  withConfigHash,
} from "../runtime/config/loaded-config.ts";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";

/** What the config process is asked to load (JSON on its stdin). */
export interface ConfigChildRequest {
  path: string | null;
  env: Record<string, string | undefined>;
  overlay?: Record<string, unknown> | undefined;
}

/** The validated config, or the error: a SidecarError's parts, or another error's stack. */
export type ConfigChildReply =
  | { config: SidecarConfig; path: string | undefined; error?: undefined }
  | { error: { code?: string; message: string; details?: string[]; exitCode?: number } };

/**
 * The config process's program: config-child.ts beside this module when running from the
 * sources; in the bundle, `config-child.js` next to `sidecar.js`, this code being in it or in
 * `chunks/`.
 */
export function configChildPath(here = import.meta.url): string {
  if (here.endsWith(".ts")) return new URL("./config-child.ts", here).pathname;
  return new URL(/\/chunks\/[^/]*$/.test(here) ? "../config-child.js" : "./config-child.js", here)
    .pathname;
}

/**
 * Loads and validates the config in a short-lived process of its own (config-child.ts): the
 * schema library, every schema and the YAML parser load and die there, so the running sidecar
 * holds only the plain validated data (docs/proxy.md, "The config validated in a process of its
 * own"). A worker thread would not do: what a thread's isolate and malloc arena used stays in
 * this process's RSS. The same config, problems, error codes and exit codes as loadConfigFile
 * in this process; the data comes back V8-serialized, as structured clone keeps it.
 *
 * The process runs synchronously, at start, before anything else does: an asynchronous child's
 * pipes are read and written through net.Socket streams, and those sockets, unlike the TCP
 * sockets the proxy serves, left the request path's stream and socket functions with one more
 * shape to handle for good: 10–15 % more CPU per proxied request, measured. spawnSync's pipes
 * never reach JavaScript streams.
 */
export async function loadConfigInChild(
  path: string | undefined,
  { env = process.env, overlay }: Parameters<ConfigLoader>[1] = {},
  program: string = configChildPath(),
  timeoutMs = 60_000,
): Promise<LoadedConfig> {
  const cacheDir = module.getCompileCacheDir?.();
  const request: ConfigChildRequest = { path: path ?? null, env: { ...env }, overlay };
  const child = spawnSync(process.execPath, [program], {
    stdio: ["pipe", "inherit", "inherit", "pipe"],
    input: JSON.stringify(request),
    maxBuffer: Number.POSITIVE_INFINITY,
    // This process handles no signal while it waits: a config path that never ends (a FIFO)
    // must not hold the start for good.
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    // V8's code cache as this process uses it (bin/sidecar.js), not this process's V8 flags.
    env: cacheDir ? { ...process.env, NODE_COMPILE_CACHE: cacheDir } : process.env,
  });
  const answer = child.output?.[3] as Buffer | null | undefined;
  if (!answer || answer.length === 0) {
    if (child.error && (child.error as NodeJS.ErrnoException).code !== "ETIMEDOUT")
      throw child.error;
    if (child.error)
      throw new SidecarError(
        ErrorCodes.CONFIG_READ,
        `The config process did not answer within ${timeoutMs / 1000} s: reading ${path ?? "the config"} never ended (a pipe, or a filesystem that does not answer?)`,
      );
    throw new Error(
      `The config process exited (${child.signal ?? `code ${child.status}`}) without an answer${child.signal === "SIGKILL" ? ": killed, maybe out of memory (it holds ~50 MB while it runs, at start)" : ""}`,
    );
  }
  const reply = deserialize(answer) as ConfigChildReply;
  if (reply.error === undefined) return withConfigHash(reply.config, reply.path);
  if (reply.error.code === undefined) throw new Error(reply.error.message);
  throw new SidecarError(reply.error.code, reply.error.message, {
    details: reply.error.details ?? [],
    ...(reply.error.exitCode === undefined ? {} : { exitCode: reply.error.exitCode }),
  });
}
