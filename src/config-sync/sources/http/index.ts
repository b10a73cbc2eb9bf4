import { basename } from "node:path";
import { Backoff } from "../../../runtime/backoff.ts";
import {
  HttpClient,
  type HttpClientResponse,
  redactUrl,
} from "../../../runtime/http/http-client.ts";
import {
  type ConfigSource,
  type SourceContext,
  type SourceListener,
  type SourceSnapshot,
  SourceState,
  type SourceStatus,
} from "../config-source.ts";
import type { HttpSourceConfig } from "./http-config.ts";

export { type HttpSourceConfig, httpSourceSchema } from "./http-config.ts";

/** Consul's `?recurse` listing: one entry per key, values base64 (null for a folder key). */
export function consulEntries(body: string, stripPrefix: string): Map<string, Buffer> {
  const list = JSON.parse(body) as unknown;
  if (!Array.isArray(list)) throw new Error("expected a JSON array of Consul KV entries");
  const entries = new Map<string, Buffer>();
  for (const item of list as { Key?: unknown; Value?: unknown }[]) {
    if (typeof item.Key !== "string" || item.Key.endsWith("/")) continue;
    const name = item.Key.startsWith(stripPrefix) ? item.Key.slice(stripPrefix.length) : item.Key;
    if (name === "") continue;
    entries.set(name, Buffer.from(typeof item.Value === "string" ? item.Value : "", "base64"));
  }
  return entries;
}

/**
 * An HTTP source. Polling: GET every `intervalSeconds` with `If-None-Match`, a 304 changes
 * nothing. Long-polling: GET `?index=N&wait=60s`, the server answers when the data changed or
 * the wait ended; an index that goes backwards starts over at 0 (as Consul asks), and requests
 * are at least `minIntervalSeconds` apart. Failures retry with backoff (honouring Retry-After)
 * and keep the last values.
 *
 * @example
 * const source = new HttpSource(httpSourceSchema.parse({ name: "kv", type: "http", url, longPoll: {} }), ctx);
 */
export class HttpSource implements ConfigSource {
  readonly name: string;
  readonly type = "http";
  readonly target: string;
  readonly #config: HttpSourceConfig;
  readonly #ctx: SourceContext;
  readonly #state: SourceState;
  readonly #client: HttpClient;
  readonly #closing = new AbortController();
  #loop: Promise<void> | undefined;
  #etag: string | undefined;
  #index = 0;

  constructor(config: HttpSourceConfig, ctx: SourceContext) {
    this.name = config.name;
    this.target = redactUrl(config.url);
    this.#config = config;
    this.#ctx = ctx;
    this.#state = new SourceState(ctx.clock);
    this.#client = new HttpClient({
      headers: config.headers,
      auth: config.auth,
      timeoutSeconds: config.timeoutSeconds,
      tls: config.tls,
      maxResponseBytes: config.maxResponseBytes,
    });
  }

  get snapshot(): SourceSnapshot | undefined {
    return this.#state.snapshot;
  }

  get status(): SourceStatus {
    return this.#state.status;
  }

  start(listener: SourceListener): void {
    this.#state.listen(listener);
    this.#loop = this.#run();
  }

  #url(): string {
    const long = this.#config.longPoll;
    if (!long) return this.#config.url;
    const url = new URL(this.#config.url);
    url.searchParams.set(long.indexParam, String(this.#index));
    url.searchParams.set(long.waitParam, `${long.waitSeconds}s`);
    return url.href;
  }

  #entryName(response: HttpClientResponse): string {
    let name = this.#config.file ?? (basename(new URL(this.#config.url).pathname) || this.name);
    const type = String(response.headers["content-type"] ?? "");
    if (this.#config.file === undefined && !/\.(json|ya?ml)$/.test(name)) {
      if (/\bjson\b/.test(type)) name += ".json";
      else if (/\byaml\b/.test(type)) name += ".yaml";
    }
    return name;
  }

  async #run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    const { longPoll } = this.#config;
    const signal = this.#closing.signal;
    while (!signal.aborted) {
      const started = this.#ctx.clock.now();
      let retryAfterMs: number | undefined;
      try {
        const response = await this.#client.request({
          url: this.#url(),
          headers: this.#etag ? { "if-none-match": this.#etag } : {},
          timeoutSeconds: this.#config.timeoutSeconds + (longPoll ? longPoll.waitSeconds * 1.1 : 0),
          signal,
        });
        retryAfterMs = response.retryAfterMs;
        this.#apply(response);
        backoff.reset();
        const pause = longPoll
          ? longPoll.minIntervalSeconds * 1000 - (this.#ctx.clock.now() - started)
          : this.#config.intervalSeconds * 1000;
        if (pause > 0) await this.#ctx.clock.sleep(pause, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#fail(error);
        await this.#ctx.clock.sleep(backoff.next(retryAfterMs), signal).catch(() => {});
      }
    }
  }

  #apply(response: HttpClientResponse): void {
    const { longPoll } = this.#config;
    if (longPoll) {
      const header = response.headers[longPoll.indexHeader.toLowerCase()];
      const index = Number(Array.isArray(header) ? header[0] : header);
      // An index that is missing, not positive or lower than before starts over at 0.
      this.#index = Number.isSafeInteger(index) && index > 0 && index >= this.#index ? index : 0;
    }
    if (response.status === 304) {
      this.#state.markUp();
      return;
    }
    if (response.status !== 200)
      throw new Error(
        `${this.target} answered ${response.status}${response.status === 404 ? " (not found)" : ""}`,
      );
    const etag = response.headers.etag;
    this.#etag = typeof etag === "string" ? etag : undefined;
    const entries =
      this.#config.body === "consul-kv"
        ? consulEntries(response.text(), this.#config.stripPrefix)
        : new Map([[this.#entryName(response), response.body]]);
    const version = this.#etag
      ? `etag ${this.#etag}`
      : longPoll
        ? `index ${this.#index}`
        : undefined;
    this.#state.update(entries, version, this.#config.body === "document");
  }

  #fail(error: unknown): void {
    this.#state.readFailed(`"${this.name}" from "${this.target}"`, error, {
      logger: this.#ctx.logger,
      source: this.name,
    });
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#loop;
    this.#client.close();
  }
}
