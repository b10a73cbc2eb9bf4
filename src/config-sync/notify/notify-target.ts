/** The version a notification is about. */
export interface NotifyVersion {
  hash: string;
  /** The directory holding it (SIDECAR_CONFIG_DIR of a command). */
  dir: string;
}

/** One way of telling the app; `send` throws with the reason when the app was not told. */
export interface NotifyTarget {
  readonly kind: "http" | "signal" | "command" | "restart";
  /** For logs and /config: the URL without credentials, the signal and process, the command's name. */
  readonly describe: string;
  /** `superseded` aborts when a newer version is waiting: stop retrying, the newer one is sent next. */
  send(version: NotifyVersion, superseded: AbortSignal): Promise<void>;
}
