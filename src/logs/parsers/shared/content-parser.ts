import { z } from "zod";
import type { LogEvent } from "../../log-event.ts";
import { createJsonParser, jsonParserSchema } from "../json/index.ts";
import { createLogfmtParser, logfmtParserSchema } from "../logfmt/index.ts";
import { createRegexParser, regexParserSchema } from "../regex/index.ts";
import { eventStart, setEventStart } from "./position-guard.ts";

/** A parser for the content of a container log line (CRI, Docker): json, logfmt or regex. */
export const contentParserSchema = z.discriminatedUnion(
  "type",
  [jsonParserSchema, logfmtParserSchema, regexParserSchema],
  { error: 'expected type "json", "logfmt" or "regex"' },
);
export type ContentParserConfig = z.infer<typeof contentParserSchema>;

/**
 * Parses a joined container log event's message with a structured parser: its fields join the
 * container's (`stream`), its time and level win when it has them. Content that does not parse
 * stays the message, with `parseError` set.
 */
export function createContentParser(
  config: ContentParserConfig | undefined,
): (event: LogEvent) => LogEvent {
  if (!config) return (event) => event;
  const parser =
    config.type === "json"
      ? createJsonParser(config)
      : config.type === "logfmt"
        ? createLogfmtParser(config)
        : createRegexParser(config);
  return (event) => {
    const [parsed] = parser.push({
      text: event.message,
      source: event.source,
      position: event.position,
      readAt: event.timestamp,
    });
    if (!parsed) return event;
    parsed.fields = { ...event.fields, ...parsed.fields };
    if (parsed.level === undefined && event.level !== undefined) parsed.level = event.level;
    const start = eventStart(event);
    return start === undefined ? parsed : setEventStart(parsed, start);
  };
}

/** createContentParser over the events a container parser emits; events that failed to parse pass as they are. */
export function createContentBatchParser(
  config: ContentParserConfig | undefined,
): (events: LogEvent[]) => LogEvent[] {
  if (!config) return (events) => events;
  const content = createContentParser(config);
  return (events) =>
    events.map((event) => (event.parseError === undefined ? content(event) : event));
}
