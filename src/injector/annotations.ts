/** The annotations (and the one label) `sidecar inject` and the webhook read and write. */
export const Annotations = {
  /** "true" injects, "false" never does; also read as a label (the webhook's object selector). */
  inject: "sidecar.dev/inject",
  /** Roles of the injected sidecar, comma-separated: proxy, logs. */
  roles: "sidecar.dev/roles",
  /** The app's port the proxy forwards to (127.0.0.1:PORT). */
  proxyPort: "sidecar.dev/proxy-port",
  /** The port the proxy listens on (a Service targets it); default 8081. */
  proxyListenPort: "sidecar.dev/proxy-listen-port",
  /** Log files the app writes, comma-separated globs; their directories become a shared emptyDir. */
  logPaths: "sidecar.dev/log-paths",
  /** How log lines are parsed: none (default), json, logfmt, cri, docker. */
  logParser: "sidecar.dev/log-parser",
  /** Where the logs go: stdout (default), file:PATH, http(s)://URL, syslog://HOST:PORT. */
  logSink: "sidecar.dev/log-sink",
  /** config role: a ConfigMap whose files the sidecar publishes for the app (its ..data swap followed). */
  configSourceConfigMap: "sidecar.dev/config-source-configmap",
  /** config role: an HTTP URL to fetch the app's config from (ETags, polled). */
  configSourceUrl: "sidecar.dev/config-source-url",
  /** config role: where the app reads its config; an emptyDir the sidecar publishes into. */
  configOutputDir: "sidecar.dev/config-output-dir",
  /** config role: a URL the sidecar calls after each publish (the app's reload endpoint). */
  configNotifyUrl: "sidecar.dev/config-notify-url",
  /** sync role: the app's data directory (inside one of the app's volumes). */
  syncDataDir: "sidecar.dev/sync-data-dir",
  /** sync role: where backups go: s3://BUCKET/PREFIX. */
  syncTarget: "sidecar.dev/sync-target",
  /** sync role: a Secret with the S3 credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …) as env. */
  syncCredentialsSecret: "sidecar.dev/sync-credentials-secret",
  /** A ConfigMap holding a full sidecar.yaml (key sidecar.yaml), used instead of the generated config. */
  configMap: "sidecar.dev/config-configmap",
  /** The sidecar image. */
  image: "sidecar.dev/image",
  /** Written by the injector: what it added, with which version (uninject reads it). */
  status: "sidecar.dev/status",
} as const;
