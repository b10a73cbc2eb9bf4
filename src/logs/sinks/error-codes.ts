/** Error codes of the logs role's sinks (rows in docs/errors.md). */
export const LogsSinkErrorCodes = {
  /** A write came after close, or close's deadline fired before these events were sent. */
  SINK_CLOSED: "SIDECAR_ERR_LOGS_SINK_CLOSED",
  /** An event rejected by the receiver could not be written to the dead-letter file. */
  DEAD_LETTER_WRITE: "SIDECAR_ERR_LOGS_DEAD_LETTER_WRITE",
  /** A TLS file named in a sink's `tls` (caFile, certFile, keyFile) cannot be read (the sink cannot be built). */
  TLS_CA: "SIDECAR_ERR_LOGS_SINK_TLS_CA",
} as const;
