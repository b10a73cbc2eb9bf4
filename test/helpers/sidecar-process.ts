import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The CLI entry, run from source with the project's Node (the one running the tests). */
export const sidecarEntry = new URL("../../src/cli/entry.ts", import.meta.url).pathname;

export interface SidecarProcess {
  child: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (128+signal if killed). */
  exited: Promise<number>;
  /** Resolves when `pattern` appears on stdout or stderr; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts `sidecar ARGS…` as a real process. Always `await proc.stop()` (or kill) in a finally. */
export function startSidecar(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; entry?: string } = {},
): SidecarProcess {
  const child = spawn(process.execPath, [options.entry ?? sidecarEntry, ...args], {
    env: { ...process.env, SIDECAR_LOG_LEVEL: "info", ...options.env },
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk;
    for (const listener of listeners) listener();
  });
  const exited = once(child, "exit").then(([code, signal]) =>
    code !== null
      ? (code as number)
      : 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 2),
  );
  const waitFor = (pattern: RegExp | string, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const matches = () =>
        typeof pattern === "string" ? (out + err).includes(pattern) : pattern.test(out + err);
      if (matches()) return resolve();
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${String(pattern)}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      void exited.then(() => {
        if (!listeners.has(check)) return;
        clearTimeout(timer);
        listeners.delete(check);
        if (matches()) resolve();
        else
          reject(
            new Error(
              `sidecar exited before printing ${String(pattern)}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`,
            ),
          );
      });
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs `sidecar ARGS…` to completion. */
export async function runSidecar(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; entry?: string } = {},
) {
  const proc = startSidecar(args, options);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

export { freePort } from "../../src/runtime/testing.ts";

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(
  prefix = "sidecar-test-",
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Writes a sidecar.yaml into `dir` and returns its path. */
export async function writeConfig(
  dir: string,
  yaml: string,
  name = "sidecar.yaml",
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return path;
}

/** GETs a loopback URL; resolves with status and body text. */
export async function httpGet(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
