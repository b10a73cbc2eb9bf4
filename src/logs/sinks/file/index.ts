import { type FileHandle, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import type { Sink } from "../../log-event.ts";
import { BatchedSink } from "../service/batched-sink.ts";
import { JsonBodyEncoder } from "../service/json-body.ts";
import { encodeBatch } from "../service/send-outcome.ts";
import { serviceConfigShape } from "../service/service-config.ts";

export const fileSinkSchema = z.strictObject({
  type: z.literal("file"),
  /** The file events are appended to as JSON lines (created with its folder when missing). */
  path: z.string().min(1),
  /** fsync after each batch, so an acknowledged event survives a power loss (slower). */
  fsync: z.boolean().default(false),
  ...serviceConfigShape({ maxInFlight: 1 }),
});
export type FileSinkConfig = z.infer<typeof fileSinkSchema>;

/**
 * Appends events as JSON lines to a file. A failed write (disk full) is retried like a network
 * error; the file is opened again on the next attempt.
 *
 * @example
 * createFileSink(fileSinkSchema.parse({ type: "file", path: "/data/out.jsonl" }), ctx);
 */
export function createFileSink(config: FileSinkConfig, ctx: ComponentContext): Sink {
  let handle: FileHandle | undefined;
  const encoder = new JsonBodyEncoder();
  return new BatchedSink({ ...config, maxInFlight: 1 }, ctx, {
    type: "file",
    send: async (events) => {
      const bytes = encodeBatch(() => encoder.encode(events));
      try {
        if (!handle) {
          await mkdir(dirname(config.path), { recursive: true });
          handle = await open(config.path, "a");
        }
        await handle.writeFile(bytes);
        encoder.recycle(bytes); // written: the next batch may use its memory
        if (config.fsync) await handle.sync();
        return { kind: "delivered" };
      } catch (error) {
        await handle?.close().catch(() => {});
        handle = undefined;
        throw error;
      }
    },
    onClose: async () => {
      await handle?.close();
      handle = undefined;
    },
  });
}

export const fileSink = defineComponent({
  type: "file",
  schema: fileSinkSchema,
  build: (config, ctx) => createFileSink(config, ctx),
});
