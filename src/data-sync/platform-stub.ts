/**
 * Stand-ins for the runtime's shared services (src/runtime/backoff.ts and
 * src/runtime/files/atomic-file.ts) with their exact signatures, until they land on main.
 * Deleted once they do.
 */

import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fs } from "../runtime/builtins.ts";

export type Jitter = "full" | "equal" | "none";
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  jitter?: Jitter;
  random?: () => number;
}

export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
): number {
  const { initialMs, maxMs, jitter = "equal", random = Math.random } = policy;
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  const delay =
    jitter === "none"
      ? base
      : jitter === "full"
        ? random() * base
        : base / 2 + random() * (base / 2);
  return Math.max(delay, retryAfterMs ?? 0);
}

export class Backoff {
  readonly #policy: BackoffPolicy;
  #attempt = 0;
  constructor(policy: BackoffPolicy) {
    this.#policy = policy;
  }
  next(retryAfterMs?: number): number {
    this.#attempt += 1;
    return backoffDelay(this.#attempt, this.#policy, retryAfterMs);
  }
  reset(): void {
    this.#attempt = 0;
  }
  get attempt(): number {
    return this.#attempt;
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number; fsync?: boolean } = {},
): Promise<void> {
  const { mode = 0o644, fsync = true } = options;
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await fs.promises.open(temp, "w", mode);
    try {
      await handle.writeFile(data);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, path);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  if (fsync) await fsyncDir(dirname(path));
}
