import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { LogEvent, Parser } from "../../log-event.ts";
import { contentParserSchema, createContentBatchParser } from "../shared/content-parser.ts";
import { parseTimestamp } from "../shared/parse-timestamp.ts";
import { PartialJoiner } from "../shared/partial-joiner.ts";
import { rawEvent } from "../shared/structured-fields.ts";

export const dockerParserSchema = z.strictObject({
  type: z.literal("docker"),
  /** A joined record longer than this is emitted as it is (marked partial); default 1 MiB. */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Parses the content further, e.g. `{ type: json }` for apps that log JSON. */
  parser: contentParserSchema.optional(),
});
export type DockerParserConfig = z.infer<typeof dockerParserSchema>;

/**
 * Docker's json-file driver: `{"log":"text\n","stream":"stdout","time":"…"}` per line. A record
 * whose `log` does not end in a newline is a partial (Docker splits at 16 KiB) and is joined with
 * the next ones of the same source and stream. Lines that are not such records keep `parseError`.
 *
 * @example
 * parser.push(line('{"log":"hello\\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}'));
 */
export function createDockerParser(config: DockerParserConfig): Parser {
  const joiner = new PartialJoiner(config);
  const parsed = createContentBatchParser(config.parser);
  return {
    push(line) {
      const start = joiner.guard.observe(line);
      let record: { log?: unknown; stream?: unknown; time?: unknown } | undefined;
      try {
        const parsed: unknown = JSON.parse(line.text);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) record = parsed;
      } catch {}
      if (!record || typeof record.log !== "string") {
        const event = rawEvent(line, 'not a Docker json-file record: expected {"log": …}');
        return joiner.guard.clampAll([event]);
      }
      const stream = typeof record.stream === "string" ? record.stream : "stdout";
      const complete = record.log.endsWith("\n");
      const event: LogEvent = rawEvent(line);
      event.message = complete ? record.log.replace(/\r?\n$/, "") : record.log;
      event.timestamp = parseTimestamp(record.time, "rfc3339") ?? line.readAt;
      event.fields = { ...event.fields, stream };
      return parsed(joiner.add(event, stream, complete, start));
    },
    flush: (source) => parsed(joiner.flush(source)),
  };
}

export const dockerParser = defineComponent({
  type: "docker",
  schema: dockerParserSchema,
  build: (config) => createDockerParser(config),
});
