import { fs } from "../../runtime/builtins.ts";
import { fdDatasync } from "../fd.ts";

export interface DatasyncQueueOptions {
  /** fdatasyncs in flight at once (default 16: libuv's pool as `sidecar sync` sizes it). */
  concurrency?: number;
  /** Open fds waiting for their turn at most; `add` waits past this (default 256). */
  maxWaiting?: number;
  /** The fdatasync call (default fd.ts's): a test injects a failure here. */
  datasync?: (fd: number) => Promise<void>;
  /** Called for an object whose fdatasync failed, after its fd is closed: delete it. */
  onFailed: (path: string) => Promise<void>;
}

/**
 * fdatasyncs written objects while the pass goes on copying, instead of all at its end: the
 * disk works while the copy threads do. Each fd is closed after its sync. An object whose sync
 * fails is handed to `onFailed` (its data may be lost even if a later fsync succeeds) and
 * `drain()` rejects with the first failure: the pass fails, and the next one starts again from
 * what the target holds.
 *
 * @example
 * const queue = new DatasyncQueue({ onFailed: (path) => rm(path, { force: true }) });
 * await queue.add(fd, path);
 * await queue.drain(); // every object added is durable, or this rejects
 */
export class DatasyncQueue {
  readonly #concurrency: number;
  readonly #maxWaiting: number;
  readonly #datasync: (fd: number) => Promise<void>;
  readonly #onFailed: (path: string) => Promise<void>;
  readonly #waiting: { fd: number; path: string }[] = [];
  #running = 0;
  #failure: unknown;
  /** Resolved when nothing is running and nothing waits. */
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Resolved when a waiting fd started: `add` waits on it past maxWaiting. */
  #room: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor({
    concurrency = 16,
    maxWaiting = 256,
    datasync = fdDatasync,
    onFailed,
  }: DatasyncQueueOptions) {
    this.#concurrency = concurrency;
    this.#maxWaiting = maxWaiting;
    this.#datasync = datasync;
    this.#onFailed = onFailed;
  }

  /** Queues the fdatasync of an open object; resolves once there is room for more. */
  async add(fd: number, path: string): Promise<void> {
    this.#waiting.push({ fd, path });
    this.#pump();
    while (this.#waiting.length > this.#maxWaiting) {
      this.#room ??= withResolvers();
      await this.#room.promise;
    }
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const { fd, path } = this.#waiting.shift()!;
      this.#running += 1;
      void this.#syncOne(fd, path).finally(() => {
        this.#running -= 1;
        this.#pump();
        if (this.#running === 0 && this.#waiting.length === 0) {
          this.#idle?.resolve();
          this.#idle = undefined;
        }
      });
    }
    if (this.#waiting.length <= this.#maxWaiting) {
      this.#room?.resolve();
      this.#room = undefined;
    }
  }

  async #syncOne(fd: number, path: string): Promise<void> {
    let failed = false;
    try {
      await this.#datasync(fd);
    } catch (error) {
      this.#failure ??= error;
      failed = true;
    } finally {
      // close(2) of a file whose data is on disk returns at once: no thread-pool round trip.
      fs.closeSync(fd);
    }
    if (failed) await this.#onFailed(path).catch(() => undefined);
  }

  /** Waits for every fdatasync queued so far; rejects with the first failure since the last drain. */
  async drain(): Promise<void> {
    if (this.#running > 0 || this.#waiting.length > 0) {
      this.#idle ??= withResolvers();
      await this.#idle.promise;
    }
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) throw failure;
  }

  /** Closes the fds still waiting, unsynced (the role stops; the next start checks them). */
  close(): void {
    for (const { fd } of this.#waiting.splice(0)) fs.close(fd, () => undefined);
  }
}

function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
