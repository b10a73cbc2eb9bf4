import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { SourceHooks } from "../file/index.ts";
import { StdoutSource } from "./stdout-source.ts";

export { StdoutSource } from "./stdout-source.ts";

export const stdoutSourceSchema = z.strictObject({
  type: z.literal("stdout"),
  /** Names the source in metrics and logs; default `stdout`. */
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]+$/, { error: "expected letters, digits, _ . -" })
    .optional(),
  /** Which of the app's streams to collect. */
  streams: z
    .array(z.enum(["stdout", "stderr"]))
    .min(1)
    .default(["stdout", "stderr"]),
  maxLineBytes: z.number().int().min(64).default(102_400),
  longLines: z.enum(["split", "truncate"]).default("split"),
  partialLineTimeoutSeconds: z.number().min(0).default(5),
});
export type StdoutSourceConfig = z.infer<typeof stdoutSourceSchema>;

/** Builds the source that collects the app's stdout/stderr in `sidecar run`. */
export function createStdoutSource(
  config: StdoutSourceConfig & { name: string },
  ctx: ComponentContext,
  hooks: SourceHooks = {},
): StdoutSource {
  return new StdoutSource({
    name: config.name,
    streams: config.streams,
    maxLineBytes: config.maxLineBytes,
    longLines: config.longLines,
    partialLineTimeoutMs: config.partialLineTimeoutSeconds * 1000,
    logger: ctx.logger.child({ source: config.name }),
    now: ctx.now,
    ...hooks,
  });
}

export const stdoutSource = defineComponent({
  type: "stdout",
  schema: stdoutSourceSchema,
  build: (config, ctx) => createStdoutSource({ ...config, name: config.name ?? "stdout" }, ctx),
});
