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
export interface Component<Schema extends z.ZodType, Built, Ctx = ComponentContext> {
  readonly type: string;
  readonly schema: Schema;
  build(config: z.infer<Schema>, ctx: Ctx): Built;
}

/** `Ctx` is what the family's `build` gets (a family with its own needs, such as the proxy's filters, names its own). */
export function defineComponent<Schema extends z.ZodType, Built, Ctx = ComponentContext>(
  component: Component<Schema, Built, Ctx>,
): Component<Schema, Built, Ctx> {
  return component;
}
