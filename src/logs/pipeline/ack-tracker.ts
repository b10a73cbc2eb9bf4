/** One hand-off to the sinks: done when every sink resolved every write of it. */
export interface Batch {
  /** Writes not settled yet. */
  remaining: number;
  failed: boolean;
  /** streamId → offset of the last event of that stream in this batch. */
  positions: Map<string, number>;
  bytes: number;
  /** Where the batch's streams commit (their source). */
  commit: (streamId: string, offset: number) => void;
}

/**
 * Moves checkpoints only past what every sink acknowledged: batches are queued per stream in
 * the order they were handed off; a stream's commit advances over the done batches at the head
 * of its queue. A failed batch stays at the head, so its stream never commits past it (it is
 * read again after a restart) — other streams are not held back.
 */
export class AckTracker {
  readonly #queues = new Map<string, Batch[]>();
  #pending = 0;

  /** Batches handed off and not yet acknowledged (or failed). */
  get pending(): number {
    return this.#pending;
  }

  /** Registers a batch in hand-off order. Call settle() for each of its writes. */
  add(batch: Batch): void {
    this.#pending++;
    for (const streamId of batch.positions.keys()) {
      let queue = this.#queues.get(streamId);
      if (!queue) {
        queue = [];
        this.#queues.set(streamId, queue);
      }
      queue.push(batch);
    }
    if (batch.remaining === 0) this.#done(batch);
  }

  /** One write of `batch` settled. */
  settle(batch: Batch, ok: boolean): void {
    if (!ok) batch.failed = true;
    if (--batch.remaining === 0) this.#done(batch);
  }

  #done(batch: Batch): void {
    this.#pending--;
    if (batch.failed) return;
    for (const streamId of batch.positions.keys()) {
      const queue = this.#queues.get(streamId);
      if (!queue) continue;
      let last: Batch | undefined;
      let n = 0;
      while (n < queue.length && queue[n]!.remaining === 0 && !queue[n]!.failed) {
        last = queue[n]!;
        n++;
      }
      if (n > 0) queue.splice(0, n);
      if (queue.length === 0) this.#queues.delete(streamId);
      const offset = last?.positions.get(streamId);
      if (offset !== undefined) last!.commit(streamId, offset);
    }
  }
}
