/** Error codes of the config role (rows in docs/errors.md). */
export const ConfigErrorCodes = {
  /** A required source was not read within its `timeoutSeconds` (the message names its path, URL or key). */
  SOURCE_TIMEOUT: "SIDECAR_ERR_CONFIG_SOURCE_TIMEOUT",
  /** A source could not be read (logged with the path or URL; the last good values stay). */
  SOURCE_READ: "SIDECAR_ERR_CONFIG_SOURCE_READ",
  /** A template could not be rendered (syntax, a missing key, output not valid JSON/YAML). */
  RENDER: "SIDECAR_ERR_CONFIG_RENDER",
  /** A rendered output failed its JSON Schema or its check command; the version is kept back. */
  VALIDATE: "SIDECAR_ERR_CONFIG_VALIDATE",
  /** The outputs could not be written to the output directory. */
  PUBLISH: "SIDECAR_ERR_CONFIG_PUBLISH",
  /** A notification (HTTP, signal, command, restart) failed or gave up. */
  NOTIFY: "SIDECAR_ERR_CONFIG_NOTIFY",
  /** The config section cannot work as written (a template file or schema file cannot be read, an unknown source name). */
  SETUP: "SIDECAR_ERR_CONFIG_SETUP",
} as const;

export type ConfigErrorCode = (typeof ConfigErrorCodes)[keyof typeof ConfigErrorCodes];
