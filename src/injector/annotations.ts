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
  /** A ConfigMap holding a full sidecar.yaml (key sidecar.yaml), used instead of the generated config. */
  configMap: "sidecar.dev/config-configmap",
  /** The sidecar image. */
  image: "sidecar.dev/image",
  /** Written by the injector: what it added, with which version (uninject reads it). */
  status: "sidecar.dev/status",
} as const;
