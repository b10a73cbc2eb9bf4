import { createHash } from "node:crypto";
import type { Clock } from "../../runtime/clock.ts";
import { describeError, SidecarError } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/telemetry/logger.ts";
import { ConfigErrorCodes } from "../error-codes.ts";

/** What a source read: entry name (a file name, a key below a prefix) → bytes. */
export interface SourceSnapshot {
  readonly entries: ReadonlyMap<string, Buffer>;
  /** The source's own word for this version: a content hash, an ETag, an etcd revision. */
  readonly version: string;
  /** One document (a file, one key, an HTTP body): its parsed value is the root of the values, not under its name. */
  readonly single?: boolean;
}

/** A source's state for /config, metrics and the status page: never a value. */
export interface SourceStatus {
  up: boolean;
  version: string | undefined;
  /** Entries in the last snapshot. */
  entries: number;
  lastChangeAt: number | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
}

export interface SourceListener {
  /** A new snapshot differs from the last one. */
  onSnapshot(snapshot: SourceSnapshot): void;
  /** A read failed; the last snapshot stays. */
  onError(error: Error): void;
}

export interface SourceContext {
  logger: Logger;
  clock: Clock;
}

/** A config source: reads, then watches (or polls), and reports snapshots that changed. */
export interface ConfigSource {
  readonly name: string;
  readonly type: string;
  /** Where it reads from, safe to show: a path, a URL without credentials, a key or prefix. */
  readonly target: string;
  start(listener: SourceListener): void;
  readonly snapshot: SourceSnapshot | undefined;
  readonly status: SourceStatus;
  close(): Promise<void>;
}

/** A short content hash of a set of entries, independent of their order. */
export function hashEntries(entries: ReadonlyMap<string, Buffer>): string {
  const hash = createHash("sha256");
  for (const name of [...entries.keys()].sort()) {
    const value = entries.get(name)!;
    hash.update(`${name.length}:${name}:${value.length}:`);
    hash.update(value);
  }
  return hash.digest("hex").slice(0, 16);
}

/** Keeps a source's status and hands snapshots to the listener only when they changed. */
export class SourceState {
  readonly status: SourceStatus = {
    up: false,
    version: undefined,
    entries: 0,
    lastChangeAt: undefined,
    lastError: undefined,
    lastErrorAt: undefined,
  };
  snapshot: SourceSnapshot | undefined;
  #hash: string | undefined;
  #listener: SourceListener | undefined;
  #lastReported: string | undefined;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  listen(listener: SourceListener): void {
    this.#listener = listener;
  }

  /** Records a successful read; calls onSnapshot when its content differs from the last. */
  update(entries: ReadonlyMap<string, Buffer>, version?: string, single = false): void {
    const hash = hashEntries(entries);
    this.#lastReported = undefined;
    this.status.up = true;
    this.status.lastError = undefined;
    this.status.version = version ?? hash;
    if (hash === this.#hash) return;
    this.#hash = hash;
    this.snapshot = { entries, version: version ?? hash, single };
    this.status.entries = entries.size;
    this.status.lastChangeAt = this.#clock.now();
    this.#listener?.onSnapshot(this.snapshot);
  }

  /** The source answered that nothing changed (a 304, an empty long-poll). */
  markUp(version?: string): void {
    this.#lastReported = undefined;
    this.status.up = true;
    this.status.lastError = undefined;
    if (version !== undefined) this.status.version = version;
  }

  /**
   * Records a read that failed, as SIDECAR_ERR_CONFIG_SOURCE_READ naming `what` (the source and
   * where it reads), logged once per distinct error: an outage is one line, not one a poll.
   */
  readFailed(
    what: string,
    error: unknown,
    { logger, source }: { logger: Logger; source: string },
  ): void {
    const wrapped = new SidecarError(
      ConfigErrorCodes.SOURCE_READ,
      `Cannot read config source ${what}: ${describeError(error)}`,
      { cause: error },
    );
    if (wrapped.message !== this.#lastReported) {
      this.#lastReported = wrapped.message;
      logger.warn(
        { source, code: wrapped.code, error: wrapped.message },
        "config source read failed; the last values stay",
      );
    }
    this.fail(wrapped, describeError(error));
  }

  /** Records a failed read; `reason` is the short form for status (default the message). */
  fail(error: Error, reason = error.message): void {
    this.status.up = false;
    this.status.lastError = reason;
    this.status.lastErrorAt = this.#clock.now();
    this.#listener?.onError(error);
  }
}
