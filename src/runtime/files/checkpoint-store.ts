import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ErrorCodes } from "../error-codes.ts";
import { describeError, SidecarError } from "../errors.ts";
import type { Logger } from "../telemetry/logger.ts";
import { writeFileAtomic } from "./atomic-file.ts";

export interface CheckpointStoreOptions {
  /** The format version of the value; a file of another version loads as undefined. */
  version: number;
  logger: Logger;
  /** Passed to writeFileAtomic: fsync file and directory on each save. Default true. */
  fsync?: boolean;
  /** The file's permissions. Default 0o644 (0o600 for anything secret). */
  mode?: number;
}

/** What is on disk: the version next to the value, so a later format can tell old files. */
interface Envelope {
  version: number;
  value: unknown;
}

/**
 * A small JSON state file (a role's checkpoint: positions, last applied revision, …) written
 * with writeFileAtomic, so a crash leaves the previous or the new state, never a torn one. A
 * missing file loads as undefined; a corrupt, unreadable or other-version file too, reported
 * once through the logger with SIDECAR_ERR_CHECKPOINT_READ — a role then starts as if new, it
 * never fails to start over its state file. Saves run one at a time, in call order.
 *
 * @example
 * const store = new CheckpointStore<{ revision: string }>("/var/lib/sidecar/sync.json", { version: 1, logger });
 * const last = await store.load(); // undefined on first start
 * await store.save({ revision: "abc123" });
 */
export class CheckpointStore<T> {
  readonly path: string;
  readonly #options: CheckpointStoreOptions;
  #reported = false;
  #saving: Promise<unknown> = Promise.resolve();

  constructor(path: string, options: CheckpointStoreOptions) {
    this.path = path;
    this.#options = options;
  }

  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      return this.#problem(describeError(error), error);
    }
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch (error) {
      return this.#problem(`not JSON: ${describeError(error)}`, error);
    }
    if (typeof envelope !== "object" || envelope === null || !("value" in envelope))
      return this.#problem("not a checkpoint file");
    if (envelope.version !== this.#options.version)
      return this.#problem(
        `unexpected version ${JSON.stringify(envelope.version)} (expected ${this.#options.version})`,
      );
    this.#reported = false;
    return envelope.value as T;
  }

  /** Writes `value` atomically (creating the directory). Throws SIDECAR_ERR_CHECKPOINT_WRITE. */
  save(value: T): Promise<void> {
    const run = this.#saving.then(() => this.#write(value));
    this.#saving = run.catch(() => {});
    return run;
  }

  async #write(value: T): Promise<void> {
    const envelope: Envelope = { version: this.#options.version, value };
    try {
      const text = `${JSON.stringify(envelope)}\n`;
      await mkdir(dirname(this.path), { recursive: true });
      await writeFileAtomic(this.path, text, {
        fsync: this.#options.fsync ?? true,
        mode: this.#options.mode ?? 0o644,
      });
    } catch (error) {
      throw new SidecarError(
        ErrorCodes.CHECKPOINT_WRITE,
        `Cannot write checkpoint file "${this.path}": ${describeError(error)}`,
        { cause: error },
      );
    }
    this.#reported = false;
  }

  #problem(detail: string, cause?: unknown): undefined {
    if (this.#reported) return undefined;
    this.#reported = true;
    const error = new SidecarError(
      ErrorCodes.CHECKPOINT_READ,
      `Cannot read checkpoint file "${this.path}": ${detail}`,
      cause === undefined ? {} : { cause },
    );
    this.#options.logger.warn(
      { code: error.code, path: this.path, error },
      `${error.message}; starting without it`,
    );
    return undefined;
  }
}
