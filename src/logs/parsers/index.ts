import { criParser } from "./cri/index.ts";
import { dockerParser } from "./docker/index.ts";
import { jsonParser } from "./json/index.ts";
import { logfmtParser } from "./logfmt/index.ts";
import { multilineParser } from "./multiline/index.ts";
import { noneParser } from "./none/index.ts";
import { regexParser } from "./regex/index.ts";

export { normalizeLevel } from "./shared/normalize-level.ts";
export { parseTimestamp } from "./shared/parse-timestamp.ts";

/**
 * Every parser component. The logs config composes their schemas into a discriminated union on
 * `type` and builds the chosen one with `build(config, ctx)`.
 *
 * @example
 * const schema = z.discriminatedUnion("type", parserComponents.map((c) => c.schema));
 */
export const parserComponents = [
  noneParser,
  jsonParser,
  logfmtParser,
  regexParser,
  criParser,
  dockerParser,
  multilineParser,
] as const;

export type ParserType = (typeof parserComponents)[number]["type"];
