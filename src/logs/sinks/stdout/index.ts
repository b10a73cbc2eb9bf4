import type { Writable } from "node:stream";
import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { Sink } from "../../log-event.ts";
import { BatchedSink } from "../service/batched-sink.ts";
import { JsonBodyEncoder } from "../service/json-body.ts";
import { encodeBatch } from "../service/send-outcome.ts";
import { serviceConfigShape } from "../service/service-config.ts";

export const stdoutSinkSchema = z.strictObject({
  type: z.literal("stdout"),
  ...serviceConfigShape({ maxInFlight: 1 }),
});
export type StdoutSinkConfig = z.infer<typeof stdoutSinkSchema>;

/** Writes `data` and resolves once the stream has taken it (its write callback). */
export function writeTo(stream: Writable, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * JSON lines on the sidecar's stdout (or any writable stream, for tests).
 *
 * @example
 * createStdoutSink(stdoutSinkSchema.parse({ type: "stdout" }), ctx);
 */
export function createStdoutSink(
  config: StdoutSinkConfig,
  ctx: ComponentContext,
  { stream = process.stdout }: { stream?: Writable } = {},
): Sink {
  // Bodies are not given back for reuse: a stream may keep a written Buffer (a PassThrough does).
  const encoder = new JsonBodyEncoder();
  return new BatchedSink(config, ctx, {
    type: "stdout",
    send: async (events) => {
      await writeTo(
        stream,
        encodeBatch(() => encoder.encode(events)),
      );
      return { kind: "delivered" };
    },
  });
}

export const stdoutSink = defineComponent({
  type: "stdout",
  schema: stdoutSinkSchema,
  build: (config, ctx) => createStdoutSink(config, ctx),
});
