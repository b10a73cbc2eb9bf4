import { fs } from "../../runtime/builtins.ts";
import { fdDatasync } from "../fd.ts";

export interface DatasyncQueueOptions {
  /** fdatasyncs in flight at once (default 64: enough to keep libuv's 16 threads busy). */
  concurrency?: number;
  /** Open fds waiting at most: the add that reaches it syncs the batch there and then (default 256). */
  maxWaiting?: number;
  /** The fdatasync call (default fd.ts's): a test injects a failure here. */
  datasync?: (fd: number) => Promise<void>;
  /** Called for an object whose fdatasync failed, after its fd is closed: delete it. */
  onFailed: (path: string) => Promise<void>;
}

/**
 * The objects written since the last flush, kept open for their fdatasync: syncing through the
 * fd the write used costs no open and close again. They are synced in a batch, many at once
 * (one at a time per copy is 10 000 waits for 10 000 files), by `drain()` before a manifest,
 * or by the `add` that makes `maxWaiting` of them, so a pass of 10 000 files holds few fds.
 * Syncing each as soon as it was written, while the copies went on, was slower (bench:sync's
 * first sync, same load: 3.3 → 4.7 s at best of 4). Each fd is closed after its sync. An
 * object whose sync fails is handed to `onFailed` (its data may be lost even if a later fsync
 * succeeds) and the batch rejects with the first failure: the pass fails, and the next one
 * starts again from what the target holds.
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
  #waiting: { fd: number; path: string }[] = [];

  constructor({
    concurrency = 64,
    maxWaiting = 256,
    datasync = fdDatasync,
    onFailed,
  }: DatasyncQueueOptions) {
    this.#concurrency = concurrency;
    this.#maxWaiting = maxWaiting;
    this.#datasync = datasync;
    this.#onFailed = onFailed;
  }

  /** Keeps an open object for the next batch; the add that fills it syncs it (and rejects with its failure). */
  async add(fd: number, path: string): Promise<void> {
    this.#waiting.push({ fd, path });
    if (this.#waiting.length >= this.#maxWaiting) await this.drain();
  }

  /** Syncs and closes every object added so far; rejects with the first failure among them. */
  async drain(): Promise<void> {
    const batch = this.#waiting;
    this.#waiting = [];
    let next = 0;
    let failure: unknown;
    const lane = async () => {
      while (next < batch.length) {
        const { fd, path } = batch[next++]!;
        try {
          await this.#datasync(fd);
        } catch (error) {
          failure ??= error;
          fs.closeSync(fd);
          await this.#onFailed(path).catch(() => undefined);
          continue;
        }
        // close(2) of a file whose data is on disk returns at once: no thread-pool round trip.
        fs.closeSync(fd);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, batch.length) }, lane));
    if (failure !== undefined) throw failure;
  }

  /** Closes the fds still waiting, unsynced (the role stops; the next start checks them). */
  close(): void {
    for (const { fd } of this.#waiting) fs.close(fd, () => undefined);
    this.#waiting = [];
  }
}
