import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Parser } from "../../log-event.ts";
import { eventFromRecord, rawEvent, structuredKeysSchema } from "../shared/structured-fields.ts";
import { parseLogfmt } from "./parse-logfmt.ts";

export const logfmtParserSchema = z.strictObject({
  type: z.literal("logfmt"),
  ...structuredKeysSchema,
});
export type LogfmtParserConfig = z.infer<typeof logfmtParserSchema>;

/** `key=value` lines (Heroku/Go style); a line that is not logfmt is kept with `parseError`. */
export function createLogfmtParser(config: LogfmtParserConfig): Parser {
  return {
    push(line) {
      const record = parseLogfmt(line.text);
      return record
        ? [eventFromRecord(line, record, config)]
        : [rawEvent(line, "invalid logfmt: expected key=value pairs")];
    },
    flush: () => [],
  };
}

export const logfmtParser = defineComponent({
  type: "logfmt",
  schema: logfmtParserSchema,
  build: (config) => createLogfmtParser(config),
});
