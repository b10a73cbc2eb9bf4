import { z } from "zod";
import { parserComponents } from "./parsers/index.ts";
import { sinkComponents } from "./sinks/index.ts";
import { fileSourceSchema } from "./sources/file/index.ts";
import { stdoutSourceSchema } from "./sources/stdout/index.ts";
import { transformComponents } from "./transforms/index.ts";

type Schemas<T extends readonly { schema: z.ZodType }[]> = { [K in keyof T]: T[K]["schema"] };
function schemasOf<T extends readonly { schema: z.ZodType }[]>(components: T): Schemas<T> {
  return components.map((component) => component.schema) as Schemas<T>;
}

export const parserConfigSchema = z.discriminatedUnion(
  "type",
  schemasOf(parserComponents) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<z.infer<(typeof parserComponents)[number]["schema"]>>;
export const transformConfigSchema = z.discriminatedUnion(
  "type",
  schemasOf(transformComponents) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<z.infer<(typeof transformComponents)[number]["schema"]>>;
export const sinkConfigSchema = z.discriminatedUnion(
  "type",
  schemasOf(sinkComponents) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<z.infer<(typeof sinkComponents)[number]["schema"]>>;

/** How a source's lines are parsed; default `none` (the line is the message). */
const parserField = { parser: parserConfigSchema.optional() };

export const logsSourceConfigSchema = z.discriminatedUnion("type", [
  fileSourceSchema.extend(parserField),
  stdoutSourceSchema.extend(parserField),
]);

/**
 * The `logs:` section: sources (each with an optional parser) → transforms → every sink.
 *
 * @example
 * logs:
 *   sources: [{ type: file, include: ["/var/log/app/*.log"], parser: { type: json } }]
 *   sinks: [{ type: http, url: "http://collector:8080/ingest" }]
 */
export const logsConfigSchema = z.strictObject({
  /** Where checkpoints and dead letters are kept; mount a volume here in a Pod so they survive restarts. */
  stateDir: z.string().min(1).default(".sidecar/logs"),
  buffer: z
    .strictObject({
      /**
       * Bytes of lines read and not yet acknowledged by every sink; reading pauses at this. The
       * process holds several times this in events and encoded batches; a smaller buffer also
       * means less garbage-collection work (8 MiB was the fastest in bench:logs).
       */
      maxBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(8 * 1024 * 1024),
      /** Events per write handed to each sink. */
      batchEvents: z.number().int().min(1).default(2000),
    })
    .prefault({}),
  sources: z.array(logsSourceConfigSchema).min(1, { error: "expected at least one source" }),
  transforms: z.array(transformConfigSchema).default([]),
  sinks: z.array(sinkConfigSchema).min(1, { error: "expected at least one sink" }),
});

export type LogsConfig = z.infer<typeof logsConfigSchema>;
export type LogsSourceConfig = z.infer<typeof logsSourceConfigSchema>;
