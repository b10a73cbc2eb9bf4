import type { SourceLine } from "../log-event.ts";

/** Hands lines to the pipeline; resolves when the pipeline has room for more (backpressure). */
export type EmitLines = (lines: SourceLine[]) => Promise<void>;

/**
 * A source of lines for the logs pipeline. Long-lived: `start` begins reading, `commit` tells it
 * what every sink has acknowledged, `stop` reads what is left and ends.
 */
export interface LogSource {
  /** The source's name (a metric label and log field). */
  readonly name: string;
  start(emit: EmitLines): Promise<void>;
  /** Every line of `streamId` before `offset` was acknowledged by every sink. */
  commit(streamId: string, offset: number): void;
  /** Reads what is left (to the end of each file), emits held partial lines, stops reading. */
  stop(): Promise<void>;
  /** Writes the committed positions durably (no-op for sources that cannot be re-read). */
  checkpoint(): Promise<void>;
  /** Bytes written to the source and not yet committed (for the lag gauge). */
  lagBytes(): number;
}
