import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Transform } from "../../log-event.ts";
import { regexSourceSchema } from "../../parsers/regex/index.ts";
import { type BuiltinPatternName, builtinPatterns, type SecretPattern } from "./patterns.ts";

const builtinNames = Object.keys(builtinPatterns) as [BuiltinPatternName, ...BuiltinPatternName[]];

export const redactSchema = z.strictObject({
  type: z.literal("redact"),
  /** Built-in patterns: bearer, card, password, jwt, email (default bearer, card, password, jwt). */
  patterns: z.array(z.enum(builtinNames)).default(["bearer", "card", "password", "jwt"]),
  /** Own patterns; the whole match is replaced (or `replacement`, which may use $1, $<name>). */
  custom: z
    .array(z.strictObject({ pattern: regexSourceSchema, replacement: z.string().optional() }))
    .default([]),
  /** The text that replaces a secret. */
  mask: z.string().default("[REDACTED]"),
  /** Where to look: `message` and the named fields; default the message and every string field. */
  fields: z.array(z.string().min(1)).optional(),
});
export type RedactConfig = z.infer<typeof redactSchema>;

function compileCustom(pattern: string, replacement: string | undefined): SecretPattern {
  const regex = new RegExp(pattern, "g");
  return {
    regex,
    replace: (match, mask) =>
      replacement === undefined ? mask : match.replace(new RegExp(pattern), replacement),
  };
}

/**
 * Masks secrets in the message and in string fields (nested ones too).
 *
 * @example
 * redact({ type: "redact", patterns: ["bearer"], custom: [], mask: "[REDACTED]" });
 * // "Authorization: Bearer abc.def" → "Authorization: Bearer [REDACTED]"
 */
export function redact(config: RedactConfig): Transform {
  const patterns: SecretPattern[] = [
    ...config.patterns.map((name) => builtinPatterns[name] as SecretPattern),
    ...config.custom.map((c) => compileCustom(c.pattern, c.replacement)),
  ];
  const mask = (text: string) => {
    let out = text;
    for (const { regex, replace } of patterns) {
      regex.lastIndex = 0;
      out = out.replace(regex, (match: string, ...rest: unknown[]) => {
        const groups = rest.filter((r): r is string => typeof r === "string");
        return replace(match, config.mask, ...groups);
      });
    }
    return out;
  };
  const deep = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return mask(value);
    if (depth > 8 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((v) => deep(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = deep(v, depth + 1);
    return out;
  };
  const only = config.fields;
  return function redactTransform(event) {
    if (!only || only.includes("message")) event.message = mask(event.message);
    if (only) {
      for (const key of only)
        if (key !== "message" && key in event.fields)
          event.fields[key] = deep(event.fields[key], 0);
    } else event.fields = deep(event.fields, 0) as Record<string, unknown>;
    return event;
  };
}

export const redactTransform = defineComponent({
  type: "redact",
  schema: redactSchema,
  build: (config) => redact(config),
});
