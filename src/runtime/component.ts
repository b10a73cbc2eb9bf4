import type { z } from "zod";
import type { Logger } from "./telemetry/logger.ts";
import type { Registry } from "./telemetry/metrics-registry.ts";

/** What a component gets to build itself: its dependencies arrive here, never from module singletons. */
export interface ComponentContext {
  logger: Logger;
  registry: Registry;
  /** Where the component may keep state across restarts (checkpoints, disk buffers, dead letters). */
  stateDir: string;
  /** Milliseconds since the epoch; replaceable in tests. */
  now: () => number;
}

/**
 * One component (a source, parser, transform, sink or filter) declared in one place: its type
 * name, its strict config schema (with `type: z.literal(name)`) and how to build it.
 *
 * @example
 * export const stdoutSink = defineComponent({
 *   type: "stdout",
 *   schema: z.strictObject({ type: z.literal("stdout") }),
 *   build: (config, ctx) => new StdoutSink(config, ctx),
 * });
 */
export interface Component<Schema extends z.ZodType, Built> {
  readonly type: string;
  readonly schema: Schema;
  build(config: z.infer<Schema>, ctx: ComponentContext): Built;
}

export function defineComponent<Schema extends z.ZodType, Built>(
  component: Component<Schema, Built>,
): Component<Schema, Built> {
  return component;
}
