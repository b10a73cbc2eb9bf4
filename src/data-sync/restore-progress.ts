import type { Logger } from "../runtime/telemetry/logger.ts";
import type { RestoreProgress } from "./restore.ts";
import { formatBytes } from "./sync-status.ts";

export interface ProgressReporterOptions {
  /** Where the bar goes when it is a terminal (stderr). */
  stream: NodeJS.WriteStream | { isTTY?: boolean; write(text: string): boolean };
  logger: Logger;
  now?: () => number;
  /** Milliseconds between log lines when the stream is not a terminal (default 5000). */
  logEveryMs?: number;
}

/** One line of progress: `42% 120/300 files 3.1/7.4 MiB ETA 12 s`. */
export function formatProgress(progress: RestoreProgress, elapsedMs: number): string {
  const fraction =
    progress.bytesTotal > 0
      ? progress.bytes / progress.bytesTotal
      : progress.filesTotal > 0
        ? progress.files / progress.filesTotal
        : 1;
  const rate = elapsedMs > 0 ? fraction / elapsedMs : 0;
  const eta = rate > 0 && fraction < 1 ? `ETA ${Math.ceil((1 - fraction) / rate / 1000)} s` : "";
  const width = 24;
  const filled = Math.round(fraction * width);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  return `${bar} ${Math.floor(fraction * 100)}% ${progress.files}/${progress.filesTotal} files ${formatBytes(progress.bytes)}/${formatBytes(progress.bytesTotal)} ${eta}`.trimEnd();
}

/**
 * The restore's progress: a bar redrawn in place when `stream` is a terminal, otherwise a log
 * line every few seconds (an init container's log). Call `done()` at the end.
 *
 * @example
 * const progress = restoreProgressReporter({ stream: process.stderr, logger });
 * await restore({ …, onProgress: progress.update }); progress.done();
 */
export function restoreProgressReporter({
  stream,
  logger,
  now = Date.now,
  logEveryMs = 5000,
}: ProgressReporterOptions): { update(progress: RestoreProgress): void; done(): void } {
  const started = now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(progress) {
      const at = now();
      if (stream.isTTY) {
        if (at - lastDraw < 100 && progress.files < progress.filesTotal) return;
        lastDraw = at;
        drawn = true;
        stream.write(`\r\x1b[2Krestoring ${formatProgress(progress, at - started)}`);
      } else if (at - lastDraw >= logEveryMs) {
        lastDraw = at;
        logger.info({ ...progress }, `restoring: ${formatProgress(progress, at - started)}`);
      }
    },
    done() {
      if (drawn) stream.write("\n");
    },
  };
}
