import { resolve } from "node:path";
import { watchPath } from "../../../runtime/files/path-watcher.ts";
import {
  type ConfigSource,
  type SourceContext,
  type SourceListener,
  type SourceSnapshot,
  SourceState,
  type SourceStatus,
} from "../config-source.ts";
import type { FileSourceConfig } from "./file-config.ts";
import { readTree } from "./read-tree.ts";

export { type FileSourceConfig, fileSourceSchema } from "./file-config.ts";

/**
 * A file or directory source: read at start, then again on every change the watcher reports
 * (plain edits, renames, Kubernetes' `..data` swap), with a poll as the safety net. A read that
 * fails keeps the last snapshot.
 *
 * @example
 * const source = new FileSource({ name: "settings", path: "/etc/configmap", pollSeconds: 2 }, ctx);
 * source.start({ onSnapshot: (s) => console.log(s.version), onError: console.error });
 */
export class FileSource implements ConfigSource {
  readonly name: string;
  readonly type = "file";
  readonly target: string;
  readonly #config: Pick<FileSourceConfig, "pollSeconds">;
  readonly #ctx: SourceContext;
  readonly #state: SourceState;
  #watcher: { close(): void } | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(config: Pick<FileSourceConfig, "name" | "path" | "pollSeconds">, ctx: SourceContext) {
    this.name = config.name;
    this.target = resolve(config.path);
    this.#config = config;
    this.#ctx = ctx;
    this.#state = new SourceState(ctx.clock);
  }

  get snapshot(): SourceSnapshot | undefined {
    return this.#state.snapshot;
  }

  get status(): SourceStatus {
    return this.#state.status;
  }

  start(listener: SourceListener): void {
    this.#state.listen(listener);
    this.#watcher = watchPath(this.target, () => this.#read(), {
      // The role's quiescence does the batching; this only folds one burst of events.
      debounceMs: 5,
      pollIntervalMs: this.#config.pollSeconds * 1000,
      clock: this.#ctx.clock,
    });
    this.#read();
  }

  /** Reads now (serialized: a change during a read reads once more after it). */
  #read(): void {
    if (this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        try {
          const { entries, single } = await readTree(this.target);
          this.#state.update(entries, undefined, single);
        } catch (error) {
          this.#state.readFailed(`"${this.name}" at "${this.target}"`, error, {
            logger: this.#ctx.logger,
            source: this.name,
          });
        }
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#reading = undefined;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    await this.#reading;
  }
}
