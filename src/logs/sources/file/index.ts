import { join } from "node:path";
import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import { FileSource } from "./file-source.ts";

export { FileSource, type FileSourceOptions } from "./file-source.ts";

export const fileSourceSchema = z.strictObject({
  type: z.literal("file"),
  /** Names the source in metrics, logs and the state directory; default `file-<index>`. */
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]+$/, { error: "expected letters, digits, _ . -" })
    .optional(),
  /** Glob patterns of the files to tail, e.g. `/var/log/app/*.log`. */
  include: z.array(z.string().min(1)).min(1),
  /** Glob patterns never to tail (a pattern without "/" matches the file name), e.g. `*.gz`. */
  exclude: z.array(z.string().min(1)).default([]),
  /** Where files found at start without a checkpoint begin; files that appear later are read from the head. */
  readFrom: z.enum(["head", "tail"]).default("head"),
  /** The fingerprint covers the first line, or this many bytes when it is longer. */
  fingerprintBytes: z.number().int().min(16).max(65_536).default(1024),
  /** Lines longer than this are split (default) or truncated, and counted. */
  maxLineBytes: z.number().int().min(64).default(102_400),
  longLines: z.enum(["split", "truncate"]).default("split"),
  /** A last line without its newline is sent after this long without the file growing. */
  partialLineTimeoutSeconds: z.number().min(0).default(5),
  /** A renamed or deleted file is kept open this long after it stopped growing (read to its end first). */
  rotateWaitSeconds: z.number().min(0).default(5),
  /** Without inotify every file is read this often; with it, files inotify reports changed, and one fstat per open file every 10 × this. */
  pollIntervalMs: z.number().int().min(10).default(250),
  /** The globs are rescanned this often where a directory cannot be watched; every 12 × this while inotify watches every directory. */
  globIntervalSeconds: z.number().min(0.05).default(5),
  /**
   * At most this many files held open; above it the least recently grown files that are read
   * and acknowledged are closed, and continue from their checkpoint when they grow. Default: no limit.
   */
  maxOpenFiles: z.number().int().min(1).optional(),
  /**
   * At most one checkpoint write per this many ms, with every file acknowledged meanwhile: after
   * a `kill -9` what is sent again is at most what was acknowledged in the last interval.
   * Rotation, deletion, closing under maxOpenFiles and shutdown write at once. 0: a write after
   * every acknowledged batch.
   */
  checkpointIntervalMs: z.number().int().min(0).max(60_000).default(500),
  /** Bytes read per read() call. */
  readChunkBytes: z
    .number()
    .int()
    .min(4096)
    .default(256 * 1024),
});
export type FileSourceConfig = z.infer<typeof fileSourceSchema>;

export interface SourceHooks {
  onRead?: (lines: number, bytes: number) => void;
  onLongLine?: () => void;
  onCheckpointError?: () => void;
  onCheckpointWrite?: () => void;
}

/** Builds a file source; its checkpoints live in `<stateDir>/<name>/checkpoints.json`. */
export function createFileSource(
  config: FileSourceConfig & { name: string },
  ctx: ComponentContext,
  hooks: SourceHooks = {},
): FileSource {
  return new FileSource({
    name: config.name,
    include: config.include,
    exclude: config.exclude,
    readFrom: config.readFrom,
    fingerprintBytes: config.fingerprintBytes,
    maxLineBytes: config.maxLineBytes,
    longLines: config.longLines,
    partialLineTimeoutMs: config.partialLineTimeoutSeconds * 1000,
    rotateWaitMs: config.rotateWaitSeconds * 1000,
    pollIntervalMs: config.pollIntervalMs,
    globIntervalMs: config.globIntervalSeconds * 1000,
    readChunkBytes: config.readChunkBytes,
    checkpointIntervalMs: config.checkpointIntervalMs,
    ...(config.maxOpenFiles === undefined ? {} : { maxOpenFiles: config.maxOpenFiles }),
    stateDir: join(ctx.stateDir, config.name),
    logger: ctx.logger.child({ source: config.name }),
    now: ctx.now,
    ...hooks,
  });
}

export const fileSource = defineComponent({
  type: "file",
  schema: fileSourceSchema,
  build: (config, ctx) => createFileSource({ ...config, name: config.name ?? "file" }, ctx),
});
