import { join } from "node:path";
import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { SourceHooks } from "../file/index.ts";
import { SpooledStdoutSource } from "./spooled-stdout-source.ts";
import { StdoutSource } from "./stdout-source.ts";

export { SpooledStdoutSource } from "./spooled-stdout-source.ts";
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
  /**
   * Spool the app's output to disk before sending it (in `<stateDir>/<name>/spool/`), so a
   * crash or kill of the sidecar loses nothing; without it the output is buffered in memory only.
   */
  diskBuffer: z
    .strictObject({
      /** Bytes not yet acknowledged the spool may hold; past it the app's pipe pauses. */
      maxBytes: z
        .number()
        .int()
        .min(1024 * 1024)
        .default(256 * 1024 * 1024),
      /** Spool segment size; acknowledged segments are deleted. */
      segmentBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(16 * 1024 * 1024),
    })
    .optional(),
});
export type StdoutSourceConfig = z.infer<typeof stdoutSourceSchema>;

/** Builds the source that collects the app's stdout/stderr in `sidecar run`. */
export function createStdoutSource(
  config: StdoutSourceConfig & { name: string },
  ctx: ComponentContext,
  hooks: SourceHooks = {},
): StdoutSource | SpooledStdoutSource {
  if (config.diskBuffer) {
    return new SpooledStdoutSource({
      name: config.name,
      streams: config.streams,
      dir: join(ctx.stateDir, config.name, "spool"),
      maxBytes: config.diskBuffer.maxBytes,
      segmentBytes: config.diskBuffer.segmentBytes,
      maxLineBytes: config.maxLineBytes,
      longLines: config.longLines,
      partialLineTimeoutMs: config.partialLineTimeoutSeconds * 1000,
      logger: ctx.logger.child({ source: config.name }),
      now: ctx.now,
      ...hooks,
    });
  }
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
