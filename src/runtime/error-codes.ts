/** The runtime's error codes; each role declares its own in its own error-codes.ts. */
export const ErrorCodes = {
  /** Usage or config problems: exit 2. */
  USAGE: "SIDECAR_ERR_USAGE",
  CONFIG_NOT_FOUND: "SIDECAR_ERR_CONFIG_NOT_FOUND",
  CONFIG_READ: "SIDECAR_ERR_CONFIG_READ",
  CONFIG_YAML: "SIDECAR_ERR_CONFIG_YAML",
  CONFIG_INVALID: "SIDECAR_ERR_CONFIG_INVALID",
  /** Run-time failures: exit 1. */
  PORT_IN_USE: "SIDECAR_ERR_PORT_IN_USE",
  LISTEN: "SIDECAR_ERR_LISTEN",
  ROLE_START: "SIDECAR_ERR_ROLE_START",
  SHUTDOWN_TIMEOUT: "SIDECAR_ERR_SHUTDOWN_TIMEOUT",
  APP_NOT_READY: "SIDECAR_ERR_APP_NOT_READY",
  APP_SPAWN: "SIDECAR_ERR_APP_SPAWN",
  /** The app command does not exist (exit 127) or cannot be executed (exit 126). */
  APP_NOT_FOUND: "SIDECAR_ERR_APP_NOT_FOUND",
  APP_NOT_EXECUTABLE: "SIDECAR_ERR_APP_NOT_EXECUTABLE",
  /** Shared services (src/runtime/files, src/runtime/http), used by every role. */
  CHECKPOINT_READ: "SIDECAR_ERR_CHECKPOINT_READ",
  CHECKPOINT_WRITE: "SIDECAR_ERR_CHECKPOINT_WRITE",
  HTTP_TIMEOUT: "SIDECAR_ERR_HTTP_TIMEOUT",
  HTTP_TOO_LARGE: "SIDECAR_ERR_HTTP_TOO_LARGE",
  HTTP_CONNECT: "SIDECAR_ERR_HTTP_CONNECT",
  HTTP_TLS_FILE: "SIDECAR_ERR_HTTP_TLS_FILE",
  HTTP_TOKEN_FILE: "SIDECAR_ERR_HTTP_TOKEN_FILE",
} as const;

export type RuntimeErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
