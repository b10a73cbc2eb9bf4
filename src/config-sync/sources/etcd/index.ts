import { basename } from "node:path";
import type { Etcd3, IKeyValue, IOptions, Watcher } from "etcd3";
import { Backoff } from "../../../runtime/backoff.ts";
import { fs } from "../../../runtime/builtins.ts";
import { commonJsExports } from "../../../runtime/commonjs-exports.ts";
import { describeError } from "../../../runtime/errors.ts";
import {
  type ConfigSource,
  type SourceContext,
  type SourceListener,
  type SourceSnapshot,
  SourceState,
  type SourceStatus,
} from "../config-source.ts";
import type { EtcdSourceConfig } from "./etcd-config.ts";

export { type EtcdSourceConfig, etcdSourceSchema } from "./etcd-config.ts";

/**
 * An etcd v3 key or prefix: read once (noting the revision), then watched from the next
 * revision. A lost connection resumes from the last revision seen (the client reconnects with
 * backoff); a resume refused because that revision was compacted reads everything again and
 * watches from the new revision, so no change is missed.
 *
 * @example
 * const source = new EtcdSource({ name: "flags", endpoints: ["http://127.0.0.1:2379"], prefix: "/app/", … }, ctx);
 */
export class EtcdSource implements ConfigSource {
  readonly name: string;
  readonly type = "etcd";
  readonly target: string;
  readonly #config: EtcdSourceConfig;
  readonly #ctx: SourceContext;
  readonly #state: SourceState;
  #client: Etcd3 | undefined;
  #watcher: Watcher | undefined;
  #entries = new Map<string, Buffer>();
  #revision = "0";
  #closed = false;
  #relisting = false;
  readonly #closing = new AbortController();

  constructor(config: EtcdSourceConfig, ctx: SourceContext) {
    this.name = config.name;
    this.#config = config;
    this.#ctx = ctx;
    this.#state = new SourceState(ctx.clock);
    const where = config.prefix !== undefined ? `prefix "${config.prefix}"` : `key "${config.key}"`;
    this.target = `${config.endpoints.join(",")} ${where}`;
  }

  get snapshot(): SourceSnapshot | undefined {
    return this.#state.snapshot;
  }

  get status(): SourceStatus {
    return this.#state.status;
  }

  /** The revision of the last read or watch event applied. */
  get revision(): string {
    return this.#revision;
  }

  start(listener: SourceListener): void {
    this.#state.listen(listener);
    void (async () => {
      // Loaded here, not at the top: gRPC and protobufjs cost memory every other command would pay.
      const { Etcd3: Client } = commonJsExports(await import("etcd3"), "Etcd3");
      if (this.#closed) return;
      try {
        this.#client = new Client(this.#options());
      } catch (error) {
        return this.#fail(error);
      }
      await this.#listAndWatch();
    })();
  }

  #options(): IOptions {
    const { endpoints, auth, tls } = this.#config;
    const options: IOptions = {
      hosts: endpoints,
      dialTimeout: this.#config.requestTimeoutSeconds * 1000,
    };
    if (auth) options.auth = { username: auth.username, password: auth.password };
    if (tls?.caFile) {
      options.credentials = {
        rootCertificate: fs.readFileSync(tls.caFile),
        ...(tls.keyFile ? { privateKey: fs.readFileSync(tls.keyFile) } : {}),
        ...(tls.certFile ? { certChain: fs.readFileSync(tls.certFile) } : {}),
      };
    }
    return options;
  }

  #entryName(key: string): string | undefined {
    const { prefix } = this.#config;
    if (prefix === undefined) return basename(key);
    if (!key.startsWith(prefix)) return undefined;
    const rest = key.slice(prefix.length).replace(/^\/+/, "");
    return rest === "" ? undefined : rest;
  }

  #fail(error: unknown): void {
    this.#state.readFailed(`"${this.name}" from etcd ${this.target}`, error, {
      logger: this.#ctx.logger,
      source: this.name,
    });
  }

  /** Reads every key (retrying with backoff), then watches from the revision after that read. */
  async #listAndWatch(): Promise<void> {
    if (this.#relisting) return;
    this.#relisting = true;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    try {
      while (!this.#closed) {
        try {
          await this.#list();
          this.#watch();
          return;
        } catch (error) {
          if (this.#closed) return;
          this.#fail(error);
          await this.#ctx.clock.sleep(backoff.next(), this.#closing.signal).catch(() => {});
        }
      }
    } finally {
      this.#relisting = false;
    }
  }

  async #list(): Promise<void> {
    const client = this.#client!;
    const deadline = { deadline: new Date(Date.now() + this.#config.requestTimeoutSeconds * 1000) };
    const { prefix, key } = this.#config;
    const response =
      prefix !== undefined
        ? await client.getAll().prefix(prefix).options(deadline).exec()
        : await client.get(key!).options(deadline).exec();
    const entries = new Map<string, Buffer>();
    for (const kv of response.kvs) {
      const name = this.#entryName(kv.key.toString());
      if (name !== undefined) entries.set(name, Buffer.from(kv.value));
    }
    this.#entries = entries;
    this.#revision = response.header.revision;
    this.#state.update(
      new Map(entries),
      `revision ${this.#revision}`,
      this.#config.key !== undefined,
    );
  }

  #watch(): void {
    if (this.#closed) return;
    const builder = this.#client!.watch();
    const { prefix, key } = this.#config;
    const ranged = prefix !== undefined ? builder.prefix(prefix) : builder.key(key!);
    const watcher = ranged.startRevision(String(BigInt(this.#revision) + 1n)).watcher();
    this.#watcher = watcher;
    const apply = (kv: IKeyValue, present: boolean) => {
      const name = this.#entryName(kv.key.toString());
      if (name === undefined) return;
      if (present) this.#entries.set(name, Buffer.from(kv.value));
      else this.#entries.delete(name);
    };
    watcher.on("put", (kv) => apply(kv, true));
    watcher.on("delete", (kv) => apply(kv, false));
    // After the put/delete events of one response (one revision, never split): one snapshot.
    watcher.on("data", (response) => {
      this.#revision = response.header.revision;
      if (response.events.length > 0)
        this.#state.update(
          new Map(this.#entries),
          `revision ${this.#revision}`,
          this.#config.key !== undefined,
        );
    });
    watcher.on("connected", () => {
      if (!this.#state.status.up)
        this.#state.update(
          new Map(this.#entries),
          `revision ${this.#revision}`,
          this.#config.key !== undefined,
        );
    });
    watcher.on("disconnected", (error: unknown) => {
      // Logged once per outage; the client reconnects with backoff and resumes from the revision.
      if (this.#closed) return;
      const reason = error ?? new Error("disconnected; reconnecting");
      if (this.#state.status.up) this.#fail(reason);
      else this.#state.fail(reason as Error, describeError(reason));
    });
    watcher.on("error", (error: unknown) => {
      // etcd cancels a watch whose start revision was compacted meanwhile (etcd 3.4 gives no
      // reason): a resume would miss changes, so read everything again and watch from there.
      if (this.#closed || watcher !== this.#watcher) return;
      this.#watcher = undefined;
      void watcher.cancel().catch(() => {});
      this.#ctx.logger.info(
        { source: this.name, revision: this.#revision, reason: describeError(error) },
        "etcd cancelled the watch (its revision was compacted?); reading everything again",
      );
      void this.#listAndWatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.cancel().catch(() => {});
    this.#client?.close();
  }
}
