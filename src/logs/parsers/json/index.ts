import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Parser } from "../../log-event.ts";
import { eventFromRecord, rawEvent, structuredKeysSchema } from "../shared/structured-fields.ts";

export const jsonParserSchema = z.strictObject({
  type: z.literal("json"),
  ...structuredKeysSchema,
});
export type JsonParserConfig = z.infer<typeof jsonParserSchema>;

/**
 * One JSON object per line; its keys become fields, with message, time and level taken out.
 * A line that is not a JSON object is kept as it is, with `parseError` set.
 *
 * @example
 * createJsonParser({ type: "json", timestampFormat: "auto" }).push(line);
 */
export function createJsonParser(config: JsonParserConfig): Parser {
  return {
    push(line) {
      let record: unknown;
      try {
        record = JSON.parse(line.text);
      } catch (error) {
        return [rawEvent(line, `invalid JSON: ${(error as Error).message}`)];
      }
      if (record === null || typeof record !== "object" || Array.isArray(record))
        return [rawEvent(line, "invalid JSON: not an object")];
      return [eventFromRecord(line, record as Record<string, unknown>, config)];
    },
    flush: () => [],
  };
}

export const jsonParser = defineComponent({
  type: "json",
  schema: jsonParserSchema,
  build: (config) => createJsonParser(config),
});
