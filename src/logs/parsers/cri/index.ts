import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { LogEvent, Parser } from "../../log-event.ts";
import { contentParserSchema, createContentBatchParser } from "../shared/content-parser.ts";
import { parseTimestamp } from "../shared/parse-timestamp.ts";
import { PartialJoiner } from "../shared/partial-joiner.ts";
import { rawEvent } from "../shared/structured-fields.ts";

export const criParserSchema = z.strictObject({
  type: z.literal("cri"),
  /** A joined line longer than this is emitted as it is (marked partial); default 1 MiB. */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Parses the content further, e.g. `{ type: json }` for apps that log JSON. */
  parser: contentParserSchema.optional(),
});
export type CriParserConfig = z.infer<typeof criParserSchema>;

const criLine = /^(\S+) (stdout|stderr) ([^ ]+)(?: (.*))?$/s;

/**
 * The CRI log format of containerd and CRI-O (`/var/log/pods`):
 * `<RFC3339Nano time> <stdout|stderr> <P|F>[:tags] <content>`. Partial lines (`P`) are joined
 * per source and stream until the full line (`F`); the joined event carries the time of its
 * first piece and the position of its last. Lines that are not CRI are kept with `parseError`.
 *
 * @example
 * parser.push(line("2016-10-06T00:17:09.669794202Z stdout P hello "));   // []
 * parser.push(line("2016-10-06T00:17:09.669794203Z stdout F world"));    // [{ message: "hello world", … }]
 */
export function createCriParser(config: CriParserConfig): Parser {
  const joiner = new PartialJoiner(config);
  const parsed = createContentBatchParser(config.parser);
  return {
    push(line) {
      const start = joiner.guard.observe(line);
      const m = criLine.exec(line.text);
      const time = m ? parseTimestamp(m[1], "rfc3339") : undefined;
      const tag = m?.[3]?.split(":")[0];
      if (!m || time === undefined || (tag !== "P" && tag !== "F")) {
        const event = rawEvent(
          line,
          "not a CRI log line: expected <time> <stream> <P|F> <content>",
        );
        return joiner.guard.clampAll([event]);
      }
      const stream = m[2]!;
      const event: LogEvent = {
        message: m[4] ?? "",
        timestamp: time,
        fields: line.truncated ? { stream, truncated: true } : { stream },
        source: line.source,
        position: line.position,
      };
      return parsed(joiner.add(event, stream, tag === "F", start));
    },
    flush: (source) => parsed(joiner.flush(source)),
  };
}

export const criParser = defineComponent({
  type: "cri",
  schema: criParserSchema,
  build: (config) => createCriParser(config),
});
