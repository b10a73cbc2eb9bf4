import { describeError } from "../../runtime/errors.ts";
import type { NotifyTarget, NotifyVersion } from "./notify-target.ts";

export type NotifyResult = "ok" | "error" | "superseded";

/** A target's last notification, for /config: never a value. */
export interface NotifyStatus {
  kind: string;
  target: string;
  lastResult: NotifyResult | undefined;
  lastError: string | undefined;
  lastVersion: string | undefined;
  at: number | undefined;
}

export interface NotifierHooks {
  onResult(
    target: NotifyTarget,
    result: NotifyResult,
    version: NotifyVersion,
    error?: string,
  ): void;
}

/**
 * Tells the app about new versions, one notification run at a time: a version published while
 * a run is going waits, and only the newest waiting one is sent (a burst of publishes is one
 * notification, never a storm). A waiting version cuts short the retries of the running one.
 *
 * @example
 * const notifier = new Notifier([httpTarget], { onResult: (t, r) => count(t.kind, r) });
 * notifier.notify({ hash, dir });
 */
export class Notifier {
  readonly #targets: readonly NotifyTarget[];
  readonly #hooks: NotifierHooks;
  readonly #now: () => number;
  readonly #status: Map<NotifyTarget, NotifyStatus>;
  #pending: NotifyVersion | undefined;
  #running: Promise<void> | undefined;
  #superseded: AbortController | undefined;
  #closed = false;

  constructor(
    targets: readonly NotifyTarget[],
    hooks: NotifierHooks,
    now: () => number = Date.now,
  ) {
    this.#targets = targets;
    this.#hooks = hooks;
    this.#now = now;
    this.#status = new Map(
      targets.map((t) => [
        t,
        {
          kind: t.kind,
          target: t.describe,
          lastResult: undefined,
          lastError: undefined,
          lastVersion: undefined,
          at: undefined,
        },
      ]),
    );
  }

  /** Each target's last result. */
  get status(): NotifyStatus[] {
    return [...this.#status.values()];
  }

  #result(target: NotifyTarget, result: NotifyResult, version: NotifyVersion, error?: string) {
    Object.assign(this.#status.get(target)!, {
      lastResult: result,
      lastError: error,
      lastVersion: version.hash,
      at: this.#now(),
    });
    this.#hooks.onResult(target, result, version, error);
  }

  get targets(): readonly NotifyTarget[] {
    return this.#targets;
  }

  notify(version: NotifyVersion): void {
    if (this.#closed || this.#targets.length === 0) return;
    this.#pending = version;
    this.#superseded?.abort();
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves when nothing is being sent or waiting. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Drops what is waiting and stops retrying; resolves when the running attempt ends. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pending = undefined;
    this.#superseded?.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    while (this.#pending && !this.#closed) {
      const version = this.#pending;
      this.#pending = undefined;
      const superseded = new AbortController();
      this.#superseded = superseded;
      for (const target of this.#targets) {
        if (superseded.signal.aborted) break;
        try {
          await target.send(version, superseded.signal);
          this.#result(target, "ok", version);
        } catch (error) {
          if (superseded.signal.aborted) {
            this.#result(target, "superseded", version);
            break;
          }
          this.#result(target, "error", version, describeError(error));
        }
      }
    }
  }
}
