import { z } from "zod";
import { seconds } from "../runtime/config/schema-helpers.ts";

/** A directory target: another volume, a mounted disk. */
export const dirTargetSchema = z.strictObject({
  type: z.literal("dir"),
  /** The directory that holds objects/ and manifests/ (created when missing). */
  path: z.string().min(1),
  /** fsync every object and manifest before it is recorded (default true). */
  fsync: z.boolean().default(true),
  /**
   * With fsync: make a pass's objects durable with one syncfs(2) of the target's filesystem
   * (`sync -f`, when a `sync` command is on PATH) instead of an fdatasync per object (default true).
   */
  syncfs: z.boolean().default(true),
});

/** An S3 bucket or an S3-compatible store; credentials come from the AWS SDK's default chain. */
export const s3TargetSchema = z.strictObject({
  type: z.literal("s3"),
  bucket: z.string().min(3),
  /** Key prefix, e.g. `backups/my-app/`; a trailing `/` is added when missing. */
  prefix: z.string().default(""),
  /** Default: AWS_REGION, else us-east-1. */
  region: z.string().optional(),
  /** Endpoint of an S3-compatible store, e.g. `http://minio:9000`. */
  endpoint: z.url().optional(),
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle: z.boolean().default(false),
  /** Server-side encryption of every object written. */
  serverSideEncryption: z.enum(["AES256", "aws:kms", "aws:kms:dsse"]).optional(),
  /** The KMS key for `aws:kms`; default: the bucket's AWS-managed key. */
  kmsKeyId: z.string().optional(),
  /** Files above this go up in parts of this size (multipart upload), MiB, 5–5120. */
  partSizeMiB: z.number().int().min(5).max(5120).default(8),
  /** Attempts of each request by the SDK before the sync counts it as failed. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
});

export const syncTargetSchema = z.discriminatedUnion("type", [dirTargetSchema, s3TargetSchema]);

/**
 * The `sync:` section: back the data directory up to a target, incrementally, and restore it
 * before the app starts (see docs/sync.md).
 *
 * @example
 * sync:
 *   dataDir: /data
 *   target: { type: s3, bucket: my-backups, prefix: my-app/ }
 *   exclude: ["*.tmp", "cache/**"]
 */
export const syncConfigSchema = z.strictObject({
  /** The app's data directory. */
  dataDir: z.string().min(1),
  target: syncTargetSchema,
  /** Globs relative to dataDir; a file is synced when it matches one include and no exclude. */
  include: z.array(z.string().min(1)).default(["**"]),
  exclude: z.array(z.string().min(1)).default([]),
  /** Sync when files change (recursive watch), after this quiet time. */
  watch: z.boolean().default(true),
  debounceSeconds: seconds(2),
  /** Sync at least this often, changes seen or not (0 = only on changes and at stop). */
  intervalSeconds: seconds(60),
  /** A file deleted from dataDir is kept at the target (`keep`) or dropped from it (`mirror`). */
  deletes: z.enum(["keep", "mirror"]).default("keep"),
  /** Earlier versions kept: the newest `versions`, plus every version younger than `maxAgeHours`. */
  retention: z
    .strictObject({
      versions: z.number().int().min(1).default(10),
      maxAgeHours: z.number().min(0).default(0),
    })
    .prefault({}),
  /** Files copied at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Upload bandwidth cap in MiB/s over all copies (0 = none). */
  bandwidthMiBps: z.number().min(0).default(0),
  /** A command run before each sync (e.g. `sqlite3 db ".backup snap.db"`); a failure skips that sync. */
  preSync: z
    .strictObject({
      command: z.array(z.string()).min(1),
      timeoutSeconds: seconds(60),
    })
    .optional(),
  restore: z
    .strictObject({
      /** In `sidecar run` and as a native sidecar: restore before the app when dataDir is empty or missing. */
      onStart: z.boolean().default(true),
    })
    .prefault({}),
  /**
   * Where the role keeps state across restarts: the S3 multipart uploads in progress
   * (`s3-uploads.json`), so a sidecar killed in the middle of a big file resumes it. A volume
   * that outlives the container (the injector uses `/var/lib/sidecar/sync`).
   */
  stateDir: z.string().min(1).default(".sidecar/sync"),
  /** Sync once and exit (`sidecar sync --once`: a CronJob, a manual backup); exit 1 if that pass failed. */
  once: z.boolean().default(false),
  /** Retry a failed sync after min(maxSeconds, initialSeconds·2^n), with jitter. */
  retry: z
    .strictObject({
      initialSeconds: seconds(1),
      maxSeconds: seconds(60),
    })
    .prefault({}),
});

export type SyncConfig = z.infer<typeof syncConfigSchema>;
export type SyncConfigInput = z.input<typeof syncConfigSchema>;
export type SyncTargetConfig = z.infer<typeof syncTargetSchema>;
