import type { SourceLine } from "../../log-event.ts";

/**
 * Builds SourceLines of one stream with consistent offsets, as a file source would (for tests).
 *
 * @example
 * const lines = lineFeeder("/var/log/app.log");
 * parser.push(lines("hello"));
 */
export function lineFeeder(
  source = "/var/log/app.log",
  streamId = "fp-1",
  readAt = 1_700_000_000_000,
) {
  let offset = 0;
  return (text: string): SourceLine => {
    offset += Buffer.byteLength(text) + 1;
    return { text, source, position: { streamId, offset }, readAt };
  };
}
