import { basename, join } from "node:path";
import type { AppOutputTap } from "../../../runtime/app/app-output.ts";
import { fs } from "../../../runtime/builtins.ts";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import { FileSource } from "../file/file-source.ts";
import type { LongLineMode } from "../line-splitter.ts";
import type { EmitLines, LogSource } from "../log-source.ts";

type Stream = "stdout" | "stderr";

export interface SpooledStdoutSourceOptions {
  name: string;
  streams: readonly Stream[];
  /** Where the spool segments and their checkpoints live. */
  dir: string;
  /** The spool may hold this many bytes not yet acknowledged; past it the app's pipe pauses. */
  maxBytes: number;
  /** A segment is closed (at a line end) past this size; acknowledged segments are deleted. */
  segmentBytes: number;
  maxLineBytes?: number;
  longLines?: LongLineMode;
  partialLineTimeoutMs?: number;
  logger: Logger;
  now?: () => number;
  onRead?: (lines: number, bytes: number) => void;
  onLongLine?: () => void;
  onCheckpointError?: () => void;
}

const segmentName = /^(stdout|stderr)-(\d{12})\.log$/;

/**
 * The app's stdout/stderr with a disk buffer: each chunk is appended to a spool segment
 * (`<dir>/stdout-000000000001.log`, …) before anything else, and a file source tails the
 * segments with checkpoints — so what the app wrote survives a crash or kill of the sidecar and
 * is sent on the next start. Segments every sink acknowledged are deleted; when the spool holds
 * `maxBytes` the app's pipe pauses (bounded disk, nothing dropped).
 */
export class SpooledStdoutSource implements LogSource, AppOutputTap {
  readonly name: string;
  readonly files: FileSource;
  readonly #options: SpooledStdoutSourceOptions;
  readonly #segments = new Map<Stream, { fd: number; path: string; bytes: number }>();
  readonly #drainListeners: (() => void)[] = [];
  #seq = 0;
  #paused = false;
  #unacked = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SpooledStdoutSourceOptions) {
    this.name = options.name;
    this.#options = options;
    fs.mkdirSync(options.dir, { recursive: true });
    for (const file of fs.readdirSync(options.dir)) {
      const match = segmentName.exec(file);
      if (match) this.#seq = Math.max(this.#seq, Number(match[2]));
    }
    this.files = new FileSource({
      name: options.name,
      include: options.streams.map((stream) => join(options.dir, `${stream}-*.log`)),
      stateDir: join(options.dir, "checkpoints"),
      readFrom: "head",
      rotateWaitMs: 0,
      pollIntervalMs: 50,
      globIntervalMs: 1000,
      maxLineBytes: options.maxLineBytes ?? 102_400,
      longLines: options.longLines ?? "split",
      partialLineTimeoutMs: options.partialLineTimeoutMs ?? 5000,
      logger: options.logger,
      label: (path) => segmentName.exec(basename(path))?.[1] ?? path,
      ...(options.now ? { now: options.now } : {}),
      ...(options.onRead ? { onRead: options.onRead } : {}),
      ...(options.onLongLine ? { onLongLine: options.onLongLine } : {}),
      ...(options.onCheckpointError ? { onCheckpointError: options.onCheckpointError } : {}),
    });
  }

  async start(emit: EmitLines): Promise<void> {
    await this.files.start(emit);
    this.#timer = setInterval(() => this.#collect(), 100);
    this.#timer.unref();
  }

  write(stream: Stream, chunk: Buffer): boolean {
    if (!this.#options.streams.includes(stream)) return true;
    const segment = this.#segments.get(stream) ?? this.#open(stream);
    let data = chunk;
    if (segment.bytes + data.length > this.#options.segmentBytes) {
      // Close the segment at a line end, so no line spans two segments; the next one opens with data.
      const nl = data.lastIndexOf(10);
      if (nl !== -1) {
        this.#append(segment, data.subarray(0, nl + 1));
        data = data.subarray(nl + 1);
        fs.closeSync(segment.fd);
        this.#segments.delete(stream);
      }
    }
    if (data.length > 0) this.#append(this.#segments.get(stream) ?? this.#open(stream), data);
    if (this.#spooled() >= this.#options.maxBytes) this.#paused = true;
    return !this.#paused;
  }

  onDrain(listener: () => void): void {
    if (this.#paused) this.#drainListeners.push(listener);
    else listener();
  }

  end(_stream: Stream): void {
    // An unfinished last line stays in the segment; the file source sends it after its timeout or at stop.
  }

  commit(streamId: string, offset: number): void {
    this.files.commit(streamId, offset);
  }

  lagBytes(): number {
    return this.files.lagBytes();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.files.stop();
  }

  async checkpoint(): Promise<void> {
    await this.files.checkpoint();
  }

  async close(): Promise<void> {
    for (const segment of this.#segments.values()) fs.closeSync(segment.fd);
    this.#segments.clear();
    await this.files.close();
  }

  #open(stream: Stream): { fd: number; path: string; bytes: number } {
    const path = join(this.#options.dir, `${stream}-${String(++this.#seq).padStart(12, "0")}.log`);
    const segment = { fd: fs.openSync(path, "a"), path, bytes: 0 };
    this.#segments.set(stream, segment);
    return segment;
  }

  #append(segment: { fd: number; bytes: number }, data: Buffer): void {
    let written = 0;
    while (written < data.length) written += fs.writeSync(segment.fd, data, written);
    segment.bytes += data.length;
    this.#unacked += data.length;
  }

  /** Bytes in the spool not yet acknowledged: counted on disk by #collect, plus what was written since. */
  #spooled(): number {
    return this.#unacked;
  }

  /** Deletes segments that were closed and fully acknowledged; resumes the app when there is room. */
  #collect(): void {
    const live = new Set([...this.#segments.values()].map((s) => s.path));
    for (const file of this.files.files()) {
      if (live.has(file.path) || file.committed < file.offset || file.offset < file.size) continue;
      try {
        if (fs.statSync(file.path).size === file.committed) fs.unlinkSync(file.path);
      } catch {
        // already gone
      }
    }
    let onDisk = 0;
    try {
      for (const name of fs.readdirSync(this.#options.dir))
        if (segmentName.test(name)) onDisk += fs.statSync(join(this.#options.dir, name)).size;
    } catch {
      // the directory is being changed; count again next time
    }
    let committed = 0;
    for (const file of this.files.files()) committed += file.committed;
    this.#unacked = Math.max(0, onDisk - committed);
    if (this.#paused && this.#spooled() < this.#options.maxBytes) {
      this.#paused = false;
      for (const listener of this.#drainListeners.splice(0)) listener();
    }
  }
}
