/** Error codes of the logs role's sources, pipeline and checkpoints (rows in docs/errors.md). */
export const LogsErrorCodes = {
  /** The checkpoint file could not be written (temp file, fsync or rename failed). */
  CHECKPOINT_WRITE: "SIDECAR_ERR_LOGS_CHECKPOINT_WRITE",
  /** The checkpoint file exists but cannot be read or parsed; the role starts without it. */
  CHECKPOINT_READ: "SIDECAR_ERR_LOGS_CHECKPOINT_READ",
  /** The state directory cannot be created or written. */
  STATE_DIR: "SIDECAR_ERR_LOGS_STATE_DIR",
  /** A file being tailed could not be read (logged with this code; the file is then released). */
  FILE_READ: "SIDECAR_ERR_LOGS_FILE_READ",
} as const;

export type LogsErrorCode = (typeof LogsErrorCodes)[keyof typeof LogsErrorCodes];
