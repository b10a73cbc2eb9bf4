import { spawn } from "node:child_process";
import module from "node:module";
import { deserialize } from "node:v8";
import {
  type ConfigLoader,
  type LoadedConfig,
  type SidecarConfig,
  withConfigHash,
} from "../runtime/config/loaded-config.ts";
import { SidecarError } from "../runtime/errors.ts";

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
 * this process's RSS. The same
 * config, problems, error codes and exit codes as loadConfigFile in this process; the data
 * comes back V8-serialized, as structured clone keeps it.
 */
export function loadConfigInChild(
  path: string | undefined,
  { env = process.env, overlay }: Parameters<ConfigLoader>[1] = {},
  program: string = configChildPath(),
): Promise<LoadedConfig> {
  return new Promise<LoadedConfig>((resolve, reject) => {
    const cacheDir = module.getCompileCacheDir?.();
    const child = spawn(process.execPath, [program], {
      stdio: ["pipe", "inherit", "inherit", "pipe"],
      // V8's code cache as this process uses it (bin/sidecar.js), not this process's V8 flags.
      env: cacheDir ? { ...process.env, NODE_COMPILE_CACHE: cacheDir } : process.env,
    });
    const chunks: Buffer[] = [];
    child.stdio[3]!.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (chunks.length === 0) {
        reject(
          new Error(`The config process exited (${signal ?? `code ${code}`}) without an answer`),
        );
        return;
      }
      const reply = deserialize(Buffer.concat(chunks)) as ConfigChildReply;
      if (reply.error === undefined) resolve(withConfigHash(reply.config, reply.path));
      else if (reply.error.code === undefined) reject(new Error(reply.error.message));
      else
        reject(
          new SidecarError(reply.error.code, reply.error.message, {
            details: reply.error.details ?? [],
            ...(reply.error.exitCode === undefined ? {} : { exitCode: reply.error.exitCode }),
          }),
        );
    });
    const request: ConfigChildRequest = { path: path ?? null, env: { ...env }, overlay };
    child.stdin!.end(JSON.stringify(request));
  });
}
