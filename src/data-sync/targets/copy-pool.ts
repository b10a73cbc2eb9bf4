import { createRequire } from "node:module";
import type { Worker } from "node:worker_threads";
import type { FileIdentity } from "../copy.ts";

// node:worker_threads is loaded when the first copy thread starts: this module is in the
// chunks every command loads, and most never start a thread.
const require = createRequire(import.meta.url);

export type { FileIdentity };

/** Small files to pack into the content-addressed objects/ of the directory `root`. */
export interface CopyBatch {
  /**
   * Each file's path and the size the scan saw: the file must still have it. `stream`: a big
   * file, read in chunks and never held whole, packed alone.
   */
  files: { source: string; size: number; stream?: boolean }[];
  root: string;
  /** Leave the pack's fd open for the batched fdatasync (the fd is the process's). */
  keepOpen: boolean;
}

/** A failure, as plain data (an Error's own fields do not cross threads). */
export interface CopyFailure {
  kind: "source" | "target";
  message: string;
  code: string | undefined;
  syscall: string | undefined;
}

/** What a copy thread read of one file, as plain data. */
export type ReadReply =
  | {
      kind: "read";
      sha256: string;
      size: number;
      /** The source's size, mtime and inode after the read; undefined when it is gone since. */
      after: FileIdentity | undefined;
    }
  | { kind: "gone" }
  | { kind: "changed"; detail: string }
  | CopyFailure;

/** The pack of the chosen files' contents, one after the other, named by its SHA-256. */
export type PackReply =
  | {
      kind: "packed";
      sha256: string;
      /** The pack's path at the target. */
      path: string;
      /** False when the target held this very pack already. */
      written: boolean;
      fd: number | undefined;
      /** Where each chosen file's content starts in the pack, in the order chosen. */
      offsets: number[];
      /** The pack's length. */
      bytes: number;
    }
  | (CopyFailure & { kind: "target" })
  /** A big file whose content changed between its two reads: nothing was written. */
  | { kind: "changed"; detail: string };

/** A batch's outcome: what was read of each file, and the pack of those chosen (undefined: none). */
export interface CopyResult {
  replies: ReadReply[];
  pack: PackReply | undefined;
}

export interface CopyPoolOptions {
  /** Threads at most, started on demand (default 2). */
  threads?: number;
  /** The worker's module; copy-worker.ts beside this file, or the bundle's own entry for it. */
  workerUrl?: URL;
  /**
   * How long a thread with nothing to copy is kept before it exits (default 5 s): a thread holds
   * ~18 MB, which the sidecar container would otherwise keep between passes for good.
   */
  idleMs?: number;
}

/**
 * Where the copy thread's code is: beside this module when running from the sources; in the
 * bundle, `sync-copy-worker.js` next to `sidecar.js`, this code being in it or in `chunks/`.
 */
export function copyWorkerUrl(here = import.meta.url): URL {
  if (here.endsWith(".ts")) return new URL("./copy-worker.ts", here);
  return new URL(
    /\/chunks\/[^/]*$/.test(here) ? "../sync-copy-worker.js" : "./sync-copy-worker.js",
    here,
  );
}

interface Thread {
  worker: Worker;
  busy: boolean;
  /** The request it is copying, while busy. */
  id: number | undefined;
  /** Stops the thread once it has been idle for `idleMs`. */
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * A few threads that pack small files with synchronous fs calls, two messages per batch of
 * files (see copy-worker.ts): what was read, then which contents to pack. Threads start when
 * all are busy and fewer than `threads` run; an idle one does not keep the process alive.
 * Batches beyond the threads wait in order. A thread that fails (or cannot start) fails its
 * batch; the next batch gets a new thread.
 *
 * @example
 * const pool = new CopyPool({ threads: 2 });
 * const { replies, pack } = await pool.copy(
 *   { files: [{ source: "/data/a.txt", size: 5 }], root: "/backup", keepOpen: false },
 *   (replies) => replies.flatMap((reply, index) => (reply.kind === "read" ? [index] : [])),
 * );
 * await pool.close();
 */
export class CopyPool {
  readonly #threads: Thread[] = [];
  readonly #max: number;
  readonly #url: URL;
  readonly #waiting: Job[] = [];
  readonly #inFlight = new Map<number, Job>();
  readonly #idleMs: number;
  #nextId = 0;
  #closed = false;

  constructor({ threads = 2, workerUrl = copyWorkerUrl(), idleMs = 5000 }: CopyPoolOptions = {}) {
    if (!(threads >= 1)) throw new RangeError("threads must be ≥ 1");
    this.#max = threads;
    this.#url = workerUrl;
    this.#idleMs = idleMs;
  }

  /** Threads running now (idle ones included). */
  get threads(): number {
    return this.#threads.length;
  }

  /**
   * Reads a batch on one thread, then packs the contents `choose` picks from what was read
   * (indexes into the replies; only "read" ones), in that order.
   */
  copy(batch: CopyBatch, choose: (replies: ReadReply[]) => number[]): Promise<CopyResult> {
    if (this.#closed) return Promise.reject(new Error("The copy pool is closed"));
    return new Promise<CopyResult>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, batch, choose, settle: { resolve, reject } };
      const idle = this.#threads.find((thread) => !thread.busy) ?? this.#start();
      if (idle) this.#send(idle, job);
      else this.#waiting.push(job);
    });
  }

  #start(): Thread | undefined {
    if (this.#threads.length >= this.#max) return undefined;
    const threads = require("node:worker_threads") as typeof import("node:worker_threads");
    // The fd of an object written stays open for the main thread's fdatasync, which closes it:
    // a Worker that tracked its fds would close them again when it exits, by then maybe
    // another file's, or the event loop's own.
    const worker = new threads.Worker(this.#url, { trackUnmanagedFds: false });
    const thread: Thread = { worker, busy: false, id: undefined, idleTimer: undefined };
    worker.on(
      "message",
      (
        message: { id: number; replies: ReadReply[] } | { id: number; pack: PackReply | undefined },
      ) => {
        const job = this.#inFlight.get(message.id);
        if ("replies" in message) {
          // Read: the same thread, which holds the contents, packs those chosen.
          let chosen: number[] = [];
          try {
            if (job) {
              job.replies = message.replies;
              chosen = job.choose(message.replies);
            }
          } catch (error) {
            job?.settle.reject(error as Error);
            this.#inFlight.delete(message.id);
          }
          worker.postMessage({ id: message.id, pack: chosen });
          return;
        }
        job?.settle.resolve({ replies: job.replies ?? [], pack: message.pack });
        this.#inFlight.delete(message.id);
        this.#done(thread);
      },
    );
    worker.on("error", (error) => this.#lost(thread, error));
    worker.on("exit", (code) => {
      if (!this.#closed) this.#lost(thread, new Error(`A copy thread exited with code ${code}`));
    });
    this.#threads.push(thread);
    return thread;
  }

  #send(thread: Thread, job: Job): void {
    clearTimeout(thread.idleTimer);
    thread.idleTimer = undefined;
    thread.busy = true;
    thread.id = job.id;
    thread.worker.ref();
    this.#inFlight.set(job.id, job);
    thread.worker.postMessage({ id: job.id, batch: job.batch });
  }

  #done(thread: Thread): void {
    thread.busy = false;
    const next = this.#waiting.shift();
    if (next) {
      this.#send(thread, next);
      return;
    }
    thread.worker.unref();
    thread.idleTimer = setTimeout(() => this.#retire(thread), this.#idleMs).unref();
  }

  /** An idle thread exits: out of the list first, so its exit is not taken for a failure. */
  #retire(thread: Thread): void {
    const index = this.#threads.indexOf(thread);
    if (index < 0 || thread.busy) return;
    this.#threads.splice(index, 1);
    void thread.worker.terminate();
  }

  /** A thread that failed or exited: its request fails, the others go on (a new thread starts on demand). */
  #lost(thread: Thread, error: Error): void {
    const index = this.#threads.indexOf(thread);
    if (index < 0) return;
    this.#threads.splice(index, 1);
    clearTimeout(thread.idleTimer);
    if (thread.busy && thread.id !== undefined) {
      this.#inFlight.get(thread.id)?.settle.reject(error);
      this.#inFlight.delete(thread.id);
    }
    void thread.worker.terminate();
    const next = this.#waiting.shift();
    if (next) {
      const replacement = this.#start();
      if (replacement) this.#send(replacement, next);
      else this.#waiting.unshift(next);
    }
  }

  /** Stops the threads; copies still waiting or in flight reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Error("The copy pool is closed");
    for (const { settle } of this.#waiting.splice(0)) settle.reject(closed);
    for (const { settle } of this.#inFlight.values()) settle.reject(closed);
    this.#inFlight.clear();
    for (const { idleTimer } of this.#threads) clearTimeout(idleTimer);
    await Promise.all(this.#threads.splice(0).map(({ worker }) => worker.terminate()));
  }
}

interface Job {
  id: number;
  batch: CopyBatch;
  choose: (replies: ReadReply[]) => number[];
  settle: { resolve: (result: CopyResult) => void; reject: (error: Error) => void };
  /** What the thread read, once it answered. */
  replies?: ReadReply[];
}
