// Stand-ins for the shared services of the platform spec (backoff, writeFileAtomic, watchPath)
// until they land on main; same signatures, deleted at the merge.
import type { FSWatcher } from "node:fs";
import { dirname } from "node:path";
import { fs, http, https } from "../runtime/builtins.ts";
import type { Clock } from "../runtime/clock.ts";
import { systemClock } from "../runtime/clock.ts";
import { SidecarError } from "../runtime/errors.ts";

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
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** (attempt - 1));
  const random = policy.random ?? Math.random;
  const jitter = policy.jitter ?? "equal";
  const delay =
    jitter === "none"
      ? base
      : jitter === "full"
        ? base * random()
        : base / 2 + (base / 2) * random();
  return Math.max(delay, retryAfterMs ?? 0);
}

export class Backoff {
  readonly #policy: BackoffPolicy;
  #attempt = 0;
  constructor(policy: BackoffPolicy) {
    this.#policy = policy;
  }
  next(retryAfterMs?: number): number {
    this.#attempt++;
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

let tempCounter = 0;
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number; fsync?: boolean } = {},
): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${++tempCounter}`;
  const handle = await fs.promises.open(temp, "w", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.chmod(options.mode ?? 0o644);
    if (options.fsync !== false) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.rename(temp, path);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  if (options.fsync !== false) await fsyncDir(dirname(path));
}

export interface PathWatcherOptions {
  debounceMs?: number;
  pollIntervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/** fs.watch on the path's directory and the path itself, plus a poll of (realpath, ino, size, mtime). */
export function watchPath(
  path: string,
  onChange: () => void,
  options: PathWatcherOptions = {},
): { close(): void } {
  const { debounceMs = 100, pollIntervalMs = 2000, clock = systemClock } = options;
  let closed = false;
  let pending: { cancel(): void } | undefined;
  const fire = () => {
    if (closed || pending) return;
    pending = clock.setTimeout(() => {
      pending = undefined;
      if (!closed) onChange();
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  const tryWatch = (target: string) => {
    try {
      const watcher = fs.watch(target, { persistent: false }, fire);
      watcher.on("error", () => {});
      watchers.push(watcher);
    } catch {}
  };
  tryWatch(path);
  tryWatch(dirname(path));
  let last = "";
  const signature = () => {
    try {
      const real = fs.realpathSync(path);
      const stat = fs.statSync(real);
      let inner = "";
      if (stat.isDirectory()) {
        for (const name of fs.readdirSync(real)) {
          try {
            const s = fs.statSync(`${real}/${name}`);
            inner += `${name}:${s.ino}:${s.size}:${s.mtimeMs};`;
          } catch {}
        }
      }
      return `${real}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${inner}`;
    } catch {
      return "missing";
    }
  };
  last = signature();
  const poll = clock.setInterval(() => {
    const now = signature();
    if (now !== last) {
      last = now;
      if (watchers.length < 2) {
        for (const w of watchers.splice(0)) w.close();
        tryWatch(path);
        tryWatch(dirname(path));
      }
      fire();
    }
  }, pollIntervalMs);
  const close = () => {
    closed = true;
    pending?.cancel();
    poll.cancel();
    for (const w of watchers) w.close();
  };
  options.signal?.addEventListener("abort", close, { once: true });
  return { close };
}

export interface HttpClientRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutSeconds?: number;
  signal?: AbortSignal;
  maxResponseBytes?: number;
}
export interface HttpClientResponse {
  status: number;
  headers: import("node:http").IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  retryAfterMs: number | undefined;
}
export interface HttpClientOptions {
  headers?: Record<string, string>;
  timeoutSeconds?: number;
  maxResponseBytes?: number;
}

const httpErr = "SIDECAR_ERR_" + "HTTP_";
export class HttpClient {
  readonly #options: HttpClientOptions;
  constructor(options: HttpClientOptions) {
    this.#options = options;
  }
  request(req: HttpClientRequest): Promise<HttpClientResponse> {
    const url = new URL(req.url);
    const headers: Record<string, string> = { ...this.#options.headers, ...req.headers };
    if (url.username)
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`;
    url.username = "";
    url.password = "";
    const lib = url.protocol === "https:" ? https : http;
    const timeoutMs = (req.timeoutSeconds ?? this.#options.timeoutSeconds ?? 10) * 1000;
    const max = req.maxResponseBytes ?? this.#options.maxResponseBytes ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const request = lib.request(url, {
        method: req.method ?? "GET",
        headers,
        signal: req.signal,
      });
      const timer = setTimeout(
        () =>
          request.destroy(new SidecarError(`${httpErr}TIMEOUT`, `Timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.on("error", (error) => {
        clearTimeout(timer);
        reject(
          error instanceof SidecarError || error.name === "AbortError"
            ? error
            : new SidecarError(`${httpErr}CONNECT`, error.message, { cause: error }),
        );
      });
      request.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) request.destroy(new SidecarError(`${httpErr}TOO_LARGE`, "too large"));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString("utf8"),
            retryAfterMs: undefined,
          });
        });
        res.on("error", () => {});
      });
      request.end(req.body);
    });
  }
  close(): void {}
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "***";
      parsed.password = "";
    }
    return parsed.toString();
  } catch {
    return url;
  }
}
