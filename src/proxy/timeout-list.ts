/** One pending timeout of a TimeoutList; `cancel()` it when the work finished first. */
export interface PendingTimeout {
  cancel(): void;
}

class Entry implements PendingTimeout {
  readonly at: number;
  readonly onTimeout: () => void;
  readonly #list: TimeoutList;
  prev: Entry | undefined;
  next: Entry | undefined;
  linked = true;

  constructor(list: TimeoutList, at: number, onTimeout: () => void) {
    this.#list = list;
    this.at = at;
    this.onTimeout = onTimeout;
  }

  cancel(): void {
    if (this.linked) this.#list.unlink(this);
  }
}

/**
 * Timeouts of one duration for many concurrent requests (a route's timeout). Deadlines come in
 * the order the timeouts were added, so one timer, armed for the oldest, serves them all: adding
 * and cancelling are a few pointer moves, where a setTimeout per request allocates a Timeout and
 * touches Node's timer lists twice. The timer is unref'd: the requests' sockets keep the process
 * alive, not their timeouts.
 *
 * @example
 * const timeouts = new TimeoutList(15_000);
 * const pending = timeouts.add(() => reply504());
 * pending.cancel(); // the response came first
 */
export class TimeoutList {
  readonly ms: number;
  readonly #now: () => number;
  #head: Entry | undefined;
  #tail: Entry | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number, now: () => number = () => performance.now()) {
    if (!(ms > 0)) throw new RangeError(`A timeout must be positive: ${ms}`);
    this.ms = ms;
    this.#now = now;
  }

  /** Calls `onTimeout` in `ms` unless cancelled first. */
  add(onTimeout: () => void): PendingTimeout {
    const entry = new Entry(this, this.#now() + this.ms, onTimeout);
    entry.prev = this.#tail;
    if (this.#tail) this.#tail.next = entry;
    else this.#head = entry;
    this.#tail = entry;
    if (this.#timer === undefined) this.#arm(entry.at);
    return entry;
  }

  /** Removes an entry (Entry.cancel). */
  unlink(entry: Entry): void {
    entry.linked = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#tail = entry.prev;
    entry.prev = entry.next = undefined;
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, at - this.#now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#now();
    while (this.#head !== undefined && this.#head.at <= now) {
      const due = this.#head;
      this.unlink(due);
      due.onTimeout();
    }
    // Entries cancelled since the timer was armed are gone; re-arm for the oldest left.
    if (this.#head !== undefined && this.#timer === undefined) this.#arm(this.#head.at);
  }
}
