import { pino } from "pino";

/** One request, as written to the access log (Envoy's fields, JSON). */
export interface AccessLogEntry {
  start_time: string;
  method: string;
  path: string;
  protocol: string;
  status: number;
  /** Envoy response flags, "-" when none (UF, UT, UO, UH, URX, RL, DC, NR, UC, DPE…). */
  response_flags: string;
  bytes_received: number;
  bytes_sent: number;
  duration_ms: number;
  upstream_service_time_ms: number | null;
  upstream_host: string | null;
  upstream_cluster: string | null;
  route: string | null;
  request_id: string;
  client_address: string;
  user_agent: string | null;
  authority: string | null;
  x_forwarded_for: string | null;
}

export interface AccessLogOptions {
  /** "stdout" or a file path. */
  path: string;
  excludePaths: readonly string[];
}

/**
 * Writes one JSON line per request, asynchronously and buffered (flushed at least every second,
 * as Envoy's access_log_flush_interval), skipping excluded paths.
 */
export class AccessLog {
  readonly #stream: ReturnType<typeof pino.destination>;
  readonly #exclude: Set<string>;
  readonly #timer: NodeJS.Timeout;

  constructor({ path, excludePaths }: AccessLogOptions) {
    this.#stream = pino.destination({
      dest: path === "stdout" ? 1 : path,
      sync: false,
      minLength: 4096,
      mkdir: true,
    });
    this.#exclude = new Set(excludePaths);
    this.#timer = setInterval(() => {
      try {
        this.#stream.flush();
      } catch {
        // not open yet
      }
    }, 1000);
    this.#timer.unref();
  }

  excluded(path: string): boolean {
    return this.#exclude.size > 0 && this.#exclude.has(path);
  }

  write(entry: AccessLogEntry): void {
    this.#stream.write(`${JSON.stringify(entry)}\n`);
  }

  /** Flushes what is buffered and closes a file (stdout stays open). */
  close(): Promise<void> {
    clearInterval(this.#timer);
    return new Promise((resolve) => {
      try {
        this.#stream.flushSync();
      } catch {
        // not ready yet or already closed
      }
      resolve();
    });
  }
}
