import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { LogEvent, Parser } from "../../log-event.ts";
import { createCriParser, criParserSchema } from "../cri/index.ts";
import { createDockerParser, dockerParserSchema } from "../docker/index.ts";
import { createJsonParser, jsonParserSchema } from "../json/index.ts";
import { createLogfmtParser, logfmtParserSchema } from "../logfmt/index.ts";
import { createNoneParser, noneParserSchema } from "../none/index.ts";
import { createRegexParser, regexParserSchema, regexSourceSchema } from "../regex/index.ts";
import { eventStart, PositionGuard, setEventStart } from "../shared/position-guard.ts";

const innerParserSchema = z.discriminatedUnion(
  "type",
  [
    noneParserSchema,
    jsonParserSchema,
    logfmtParserSchema,
    regexParserSchema,
    criParserSchema,
    dockerParserSchema,
  ],
  { error: 'expected type "none", "json", "logfmt", "regex", "cri" or "docker"' },
);

export const multilineParserSchema = z
  .strictObject({
    type: z.literal("multiline"),
    /** A line matching this starts a new event (e.g. `^\d{4}-\d{2}-\d{2}` or `^\S`). */
    startPattern: regexSourceSchema.optional(),
    /** A line matching this continues the current event (e.g. `^\s+at |^Caused by:`). */
    continuationPattern: regexSourceSchema.optional(),
    /** How long the pipeline waits before flushing a held event (see `flushTimeoutMs`). */
    timeoutSeconds: z.number().min(0.01).default(1),
    /** A held event is emitted once it has this many lines… */
    maxLines: z.number().int().min(1).default(500),
    /** …or this many bytes. */
    maxBytes: z
      .number()
      .int()
      .min(1)
      .default(1024 * 1024),
    /** Parses the lines first (e.g. `cri` to join partial lines, then group stack traces). */
    parser: innerParserSchema.default({ type: "none" }),
  })
  .refine((c) => c.startPattern !== undefined || c.continuationPattern !== undefined, {
    error: "expected startPattern, continuationPattern or both",
  });
export type MultilineParserConfig = z.infer<typeof multilineParserSchema>;
type InnerParserConfig = z.infer<typeof innerParserSchema>;

function createInner(config: InnerParserConfig): Parser {
  switch (config.type) {
    case "none":
      return createNoneParser();
    case "json":
      return createJsonParser(config);
    case "logfmt":
      return createLogfmtParser(config);
    case "regex":
      return createRegexParser(config);
    case "cri":
      return createCriParser(config);
    case "docker":
      return createDockerParser(config);
  }
}

interface Group {
  event: LogEvent;
  lines: string[];
  bytes: number;
}

/** A multiline parser also tells the pipeline how long to hold an event before `flush(source)`. */
export interface MultilineParser extends Parser {
  readonly flushTimeoutMs: number;
}

/**
 * Groups lines into one event by start and continuation patterns (Java stack traces, Python
 * tracebacks). A line continues the held event when it matches `continuationPattern` (if set)
 * and does not match `startPattern` (if set). Groups are kept per source and `stream` field. The
 * held event is emitted when the next start comes, when it reaches maxLines/maxBytes, or when the
 * pipeline calls `flush(source)` after `flushTimeoutMs` of quiet.
 *
 * @example
 * createMultilineParser({ type: "multiline", startPattern: "^\\S", … });
 * // "Exception in thread…", "\tat A.b(A.java:1)" → one event
 */
export function createMultilineParser(config: MultilineParserConfig): MultilineParser {
  const inner = createInner(config.parser);
  const start = config.startPattern === undefined ? undefined : new RegExp(config.startPattern);
  const continuation =
    config.continuationPattern === undefined ? undefined : new RegExp(config.continuationPattern);
  const guard = new PositionGuard();
  const groups = new Map<string, Group>();

  const continues = (message: string) =>
    (continuation ? continuation.test(message) : true) && !(start ? start.test(message) : false);

  function emit(key: string, group: Group): LogEvent {
    groups.delete(key);
    guard.release(key);
    group.event.message = group.lines.join("\n");
    if (group.lines.length > 1) group.event.fields.lines = group.lines.length;
    return group.event;
  }

  function take(event: LogEvent, lineStart: number, out: LogEvent[]): void {
    const stream = typeof event.fields.stream === "string" ? event.fields.stream : "";
    const key = `${event.source}\u0000${stream}`;
    const held = groups.get(key);
    if (held && continues(event.message)) {
      held.lines.push(event.message);
      held.bytes += Buffer.byteLength(event.message) + 1;
      held.event.position = event.position;
      if (held.lines.length >= config.maxLines || held.bytes >= config.maxBytes)
        out.push(emit(key, held));
      return;
    }
    if (held) out.push(emit(key, held));
    const first = eventStart(event) ?? lineStart;
    setEventStart(event, first);
    event.fields = { ...event.fields };
    groups.set(key, { event, lines: [event.message], bytes: Buffer.byteLength(event.message) });
    guard.hold(key, event.position.streamId, first);
  }

  return {
    flushTimeoutMs: config.timeoutSeconds * 1000,
    push(line) {
      const lineStart = guard.observe(line);
      const out: LogEvent[] = [];
      for (const event of inner.push(line)) {
        if (event.parseError !== undefined) out.push(event);
        else take(event, lineStart, out);
      }
      return guard.clampAll(out);
    },
    flush(source) {
      const out: LogEvent[] = [];
      for (const event of inner.flush(source)) take(event, eventStart(event) ?? 0, out);
      for (const [key, group] of groups)
        if (source === undefined || group.event.source === source) out.push(emit(key, group));
      return guard.clampAll(out);
    },
  };
}

export const multilineParser = defineComponent({
  type: "multiline",
  schema: multilineParserSchema,
  build: (config) => createMultilineParser(config),
});
