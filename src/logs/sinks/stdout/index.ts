import type { Writable } from "node:stream";
import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { Sink } from "../../log-event.ts";
import { BatchedSink } from "../service/batched-sink.ts";
import { encodeJsonLines } from "../service/event-json.ts";
import { encodeBatch } from "../service/send-outcome.ts";
import { serviceConfigShape } from "../service/service-config.ts";

export const stdoutSinkSchema = z.strictObject({
  type: z.literal("stdout"),
  ...serviceConfigShape({ maxInFlight: 1 }),
});
export type StdoutSinkConfig = z.infer<typeof stdoutSinkSchema>;

/** Writes `text` and resolves once the stream has taken it (its write callback). */
export function writeTo(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
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
  return new BatchedSink(config, ctx, {
    type: "stdout",
    send: async (events) => {
      await writeTo(
        stream,
        encodeBatch(() => encodeJsonLines(events)),
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
