import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Parser } from "../../log-event.ts";
import { rawEvent } from "../shared/structured-fields.ts";

export const noneParserSchema = z.strictObject({ type: z.literal("none") });

/** The line as it is: one event per line, the line as the message. */
export function createNoneParser(): Parser {
  return {
    push: (line) => [rawEvent(line)],
    flush: () => [],
  };
}

export const noneParser = defineComponent({
  type: "none",
  schema: noneParserSchema,
  build: () => createNoneParser(),
});
