import type { SyncTargetConfig } from "../sync-config.ts";
import { DirTarget } from "./dir.ts";
import { S3Target, type S3TargetOptions } from "./s3.ts";
import type { SyncTarget } from "./target.ts";
import type { UploadJournal } from "./upload-journal.ts";

/** Builds the target a `sync.target` section describes. */
export function createTarget(
  config: SyncTargetConfig,
  {
    s3ClientConfig,
    journal,
    copyThreads,
  }: {
    s3ClientConfig?: S3TargetOptions["clientConfig"];
    journal?: UploadJournal;
    /** A directory target's copy threads (the memory budget's `sync.copyThreads`). */
    copyThreads?: number;
  } = {},
): SyncTarget {
  if (config.type === "dir")
    return new DirTarget(config.path, {
      fsync: config.fsync,
      ...(copyThreads === undefined ? {} : { copyThreads }),
      ...(config.syncfs ? {} : { syncFilesystem: false }),
    });
  return new S3Target({
    bucket: config.bucket,
    prefix: config.prefix,
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...(config.serverSideEncryption ? { serverSideEncryption: config.serverSideEncryption } : {}),
    ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
    partSize: config.partSizeMiB * 1024 * 1024,
    maxAttempts: config.maxAttempts,
    ...(s3ClientConfig ? { clientConfig: s3ClientConfig } : {}),
    ...(journal ? { journal } : {}),
  });
}
