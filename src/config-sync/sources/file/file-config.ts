import { z } from "zod";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import { sourceBaseShape } from "../source-base.ts";

/** A file, or a directory such as a mounted ConfigMap or Secret (its `..data` swap is followed). */
export const fileSourceSchema = z.strictObject({
  type: z.literal("file"),
  ...sourceBaseShape,
  /** A file (one entry, named after it) or a directory (one entry per file, subdirectories as `a/b`). */
  path: z.string().min(1),
  /** The safety-net poll for filesystems where inotify does not report changes. */
  pollSeconds: seconds(2, { min: 0.05 }),
});
export type FileSourceConfig = z.infer<typeof fileSourceSchema>;
