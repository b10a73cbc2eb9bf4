/** Error codes of the sync role (rows in docs/errors.md). */
export const SyncErrorCodes = {
  /** The target (directory or S3) could not be read or written. */
  TARGET: "SIDECAR_ERR_SYNC_TARGET",
  /** The data directory or a file in it could not be read. */
  SOURCE: "SIDECAR_ERR_SYNC_SOURCE",
  /** The pre-sync hook command failed, timed out or could not start. */
  HOOK: "SIDECAR_ERR_SYNC_HOOK",
  /** A manifest at the target is unreadable or not a manifest of this format. */
  MANIFEST: "SIDECAR_ERR_SYNC_MANIFEST",
  /** A restored file's SHA-256 or size differs from the manifest: the object at the target is corrupt. */
  VERIFY: "SIDECAR_ERR_SYNC_VERIFY",
  /** Restore refused: the data directory is not empty (use --force, or --if-empty to skip). Exit 4. */
  NOT_EMPTY: "SIDECAR_ERR_SYNC_NOT_EMPTY",
  /** The target holds no backup (or none at the point in time asked for). Exit 3; 0 with --if-exists. */
  NOTHING_TO_RESTORE: "SIDECAR_ERR_SYNC_NOTHING_TO_RESTORE",
} as const;

export type SyncErrorCode = (typeof SyncErrorCodes)[keyof typeof SyncErrorCodes];

/** Exit codes of `sidecar sync restore` besides 0 (restored) and 1 (failed). */
export const RestoreExitCodes = { nothingToRestore: 3, notEmpty: 4 } as const;
