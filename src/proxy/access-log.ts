import { pino } from "pino";

/** One request, as written to the access log (Envoy's fields, JSON). */
export interface AccessLogEntry {
  start_time: string;
  method: string;
  path: string;
  protocol: string;
  status: number;
  /** Envoy response flags, "-" when none (UF, UT, UO, UH, URX, RL, DC, NR, UC, UPE, DPE…). */
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
    this.#stream.write(formatAccessLogLine(entry));
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

const str = (value: string | null) => (value === null ? "null" : JSON.stringify(value));
const num = (value: number | null) => (value === null ? "null" : String(value));

/** The entry as one JSON line, built field by field (measurably cheaper than JSON.stringify). */
export function formatAccessLogLine(e: AccessLogEntry): string {
  return `{"start_time":"${e.start_time}","method":${str(e.method)},"path":${str(e.path)},"protocol":"${e.protocol}","status":${e.status},"response_flags":"${e.response_flags}","bytes_received":${e.bytes_received},"bytes_sent":${e.bytes_sent},"duration_ms":${e.duration_ms},"upstream_service_time_ms":${num(e.upstream_service_time_ms)},"upstream_host":${str(e.upstream_host)},"upstream_cluster":${str(e.upstream_cluster)},"route":${str(e.route)},"request_id":${str(e.request_id)},"client_address":${str(e.client_address)},"user_agent":${str(e.user_agent)},"authority":${str(e.authority)},"x_forwarded_for":${str(e.x_forwarded_for)}}\n`;
}
