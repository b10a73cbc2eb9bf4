import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Parser } from "../../log-event.ts";
import { eventFromRecord, rawEvent, structuredKeysSchema } from "../shared/structured-fields.ts";

/** A regular expression in config: checked at load time so a typo fails at start, by path. */
export const regexSourceSchema = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: `invalid regular expression: ${(error as Error).message}`,
    });
  }
});

export const regexParserSchema = z.strictObject({
  type: z.literal("regex"),
  /** A pattern with named groups, e.g. `^(?<time>\S+) (?<level>\w+) (?<message>.*)$`. */
  pattern: regexSourceSchema.refine((source) => /\(\?<[A-Za-z_]\w*>/.test(source), {
    error: "expected at least one named group (?<name>…)",
  }),
  ...structuredKeysSchema,
});
export type RegexParserConfig = z.infer<typeof regexParserSchema>;

/**
 * Named groups of a pattern become fields (message, time and level taken out as in json);
 * a line the pattern does not match is kept with `parseError`.
 *
 * @example
 * createRegexParser({ type: "regex", pattern: "^(?<level>\\w+) (?<message>.*)$", timestampFormat: "auto" });
 */
export function createRegexParser(config: RegexParserConfig): Parser {
  const regex = new RegExp(config.pattern);
  return {
    push(line) {
      const groups = regex.exec(line.text)?.groups;
      if (!groups) return [rawEvent(line, "no match for the regex pattern")];
      const record: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(groups))
        if (value !== undefined) record[key] = value;
      return [eventFromRecord(line, record, config)];
    },
    flush: () => [],
  };
}

export const regexParser = defineComponent({
  type: "regex",
  schema: regexParserSchema,
  build: (config) => createRegexParser(config),
});
