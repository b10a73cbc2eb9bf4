import type { AppOutputTap } from "../../../runtime/app/app-output.ts";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import type { SourceLine } from "../../log-event.ts";
import { LineSplitter, type LongLineMode } from "../line-splitter.ts";
import type { EmitLines, LogSource } from "../log-source.ts";

export interface StdoutSourceOptions {
  name: string;
  streams: readonly ("stdout" | "stderr")[];
  maxLineBytes?: number;
  longLines?: LongLineMode;
  partialLineTimeoutMs?: number;
  logger: Logger;
  now?: () => number;
  onRead?: (lines: number, bytes: number) => void;
  onLongLine?: () => void;
}

type Stream = "stdout" | "stderr";

/**
 * The app's stdout/stderr as a log source (`sidecar run`). The app runtime passes every chunk
 * through to the terminal and to this tap; when the pipeline's buffer is full the tap asks for
 * the app's pipe to pause (so the app blocks on write, as with a full container log pipe) rather
 * than drop or grow. The output cannot be read again, so there is no checkpoint: what is in the
 * memory buffer when the sidecar is killed is lost (a disk buffer is not implemented yet).
 */
export class StdoutSource implements LogSource, AppOutputTap {
  readonly name: string;
  readonly #options: StdoutSourceOptions;
  readonly #splitters = new Map<Stream, LineSplitter>();
  readonly #committed = new Map<Stream, number>();
  readonly #drainListeners: (() => void)[] = [];
  readonly #lastDataAt = new Map<Stream, number>();
  #emit: EmitLines | undefined;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #emitted: Promise<void> = Promise.resolve();

  constructor(options: StdoutSourceOptions) {
    this.name = options.name;
    this.#options = options;
    const now = options.now ?? Date.now;
    for (const stream of options.streams) {
      this.#splitters.set(
        stream,
        new LineSplitter({
          streamId: stream,
          source: stream,
          maxLineBytes: options.maxLineBytes ?? 102_400,
          longLines: options.longLines ?? "split",
          now,
          ...(options.onLongLine ? { onLongLine: options.onLongLine } : {}),
        }),
      );
    }
  }

  async start(emit: EmitLines): Promise<void> {
    this.#emit = emit;
    const timeout = this.#options.partialLineTimeoutMs ?? 5000;
    const now = this.#options.now ?? Date.now;
    this.#timer = setInterval(
      () => {
        for (const [stream, splitter] of this.#splitters) {
          if (splitter.partialBytes > 0 && now() - (this.#lastDataAt.get(stream) ?? 0) >= timeout)
            this.end(stream);
        }
      },
      Math.max(50, Math.min(timeout, 1000)),
    );
    this.#timer.unref();
  }

  write(stream: Stream, chunk: Buffer): boolean {
    const splitter = this.#splitters.get(stream);
    if (!splitter || !this.#emit) return true;
    this.#lastDataAt.set(stream, (this.#options.now ?? Date.now)());
    const lines: SourceLine[] = [];
    splitter.push(chunk, lines);
    this.#options.onRead?.(lines.length, chunk.length);
    if (lines.length === 0) return true;
    this.#send(lines);
    // A hand-off still waiting for room means the buffer is full: pause the app's pipe.
    return this.#pending <= 1;
  }

  onDrain(listener: () => void): void {
    if (this.#pending <= 1) listener();
    else this.#drainListeners.push(listener);
  }

  end(stream: Stream): void {
    const lines: SourceLine[] = [];
    if (this.#splitters.get(stream)?.flushPartial(lines)) this.#send(lines);
  }

  commit(streamId: string, offset: number): void {
    this.#committed.set(streamId as Stream, offset);
  }

  lagBytes(): number {
    let lag = 0;
    for (const [stream, splitter] of this.#splitters)
      lag += splitter.offset - (this.#committed.get(stream) ?? 0);
    return lag;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const stream of this.#splitters.keys()) this.end(stream);
    await this.#emitted;
  }

  async checkpoint(): Promise<void> {}

  #send(lines: SourceLine[]): void {
    this.#pending++;
    const emitted = this.#emit!(lines).then(() => {
      this.#pending--;
      if (this.#pending <= 1) for (const listener of this.#drainListeners.splice(0)) listener();
    });
    this.#emitted = Promise.all([this.#emitted, emitted]).then(() => {});
  }
}
