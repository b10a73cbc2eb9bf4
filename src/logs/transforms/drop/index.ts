import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { LogEvent, Transform } from "../../log-event.ts";
import { regexSourceSchema } from "../../parsers/regex/index.ts";
import { levelRank, levels } from "../../parsers/shared/normalize-level.ts";
import { fieldValue } from "../field-path.ts";

const conditionSchema = z.union([
  z.strictObject({
    /** `message`, `level`, `source`, or a field (dots for nested). */
    field: z.string().min(1),
    equals: z.union([z.string(), z.number(), z.boolean()]),
  }),
  z.strictObject({ field: z.string().min(1), matches: regexSourceSchema }),
  z.strictObject({ field: z.string().min(1), exists: z.boolean() }),
  /** Drops events whose level is below this (events without a level are kept). */
  z.strictObject({ levelBelow: z.enum(levels) }),
]);

export const dropSchema = z.strictObject({
  type: z.literal("drop"),
  /** The conditions; an event is dropped when any (default) or all of them hold. */
  conditions: z.array(conditionSchema).min(1),
  mode: z.enum(["any", "all"]).default("any"),
});
export type DropConfig = z.infer<typeof dropSchema>;
type Condition = z.infer<typeof conditionSchema>;

function compile(condition: Condition): (event: LogEvent) => boolean {
  if ("levelBelow" in condition) {
    const min = levelRank(condition.levelBelow);
    return (event) => event.level !== undefined && levelRank(event.level) < min;
  }
  const { field } = condition;
  if ("equals" in condition) return (event) => fieldValue(event, field) === condition.equals;
  if ("exists" in condition)
    return (event) => (fieldValue(event, field) !== undefined) === condition.exists;
  const regex = new RegExp(condition.matches);
  return (event) => {
    const value = fieldValue(event, field);
    return (
      value !== undefined && regex.test(typeof value === "string" ? value : JSON.stringify(value))
    );
  };
}

/**
 * Drops the events that match (null tells the pipeline, which counts them by reason).
 *
 * @example
 * drop({ type: "drop", mode: "any", conditions: [{ levelBelow: "info" }, { field: "path", equals: "/healthz" }] });
 */
export function drop(config: DropConfig): Transform {
  const tests = config.conditions.map(compile);
  const matches =
    config.mode === "all"
      ? (event: LogEvent) => tests.every((t) => t(event))
      : (event: LogEvent) => tests.some((t) => t(event));
  return function dropTransform(event) {
    return matches(event) ? null : event;
  };
}

export const dropTransform = defineComponent({
  type: "drop",
  schema: dropSchema,
  build: (config) => drop(config),
});
