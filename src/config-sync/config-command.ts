import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommand } from "../runtime/role-definition.ts";

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as string[]) : [String(value)];
}

/** The config overlay `sidecar config`'s flags stand for; undefined when no flag was given. */
export function configOverlay(flags: Record<string, unknown>): Record<string, unknown> | undefined {
  const config: Record<string, unknown> = {};
  const sources: Record<string, unknown>[] = [];
  if (typeof flags.sourceDir === "string")
    sources.push({ name: "files", type: "file", path: flags.sourceDir });
  if (typeof flags.sourceUrl === "string")
    sources.push({ name: "http", type: "http", url: flags.sourceUrl });
  if (typeof flags.etcd === "string") {
    if (typeof flags.etcdPrefix !== "string")
      throw new SidecarError(
        ErrorCodes.USAGE,
        "--etcd needs --etcd-prefix (e.g. --etcd-prefix /app/)",
      );
    sources.push({ name: "etcd", type: "etcd", endpoints: [flags.etcd], prefix: flags.etcdPrefix });
  } else if (flags.etcdPrefix !== undefined) {
    throw new SidecarError(ErrorCodes.USAGE, "--etcd-prefix needs --etcd URL");
  }
  if (sources.length) config.sources = sources;
  if (typeof flags.outputDir === "string") config.outputDir = flags.outputDir;
  const notify: Record<string, unknown>[] = list(flags.notifyUrl).map((url) => ({
    type: "http",
    url,
  }));
  if (typeof flags.notifySignal === "string") {
    const signal = flags.notifySignal.toUpperCase();
    notify.push({
      type: "signal",
      signal: signal.startsWith("SIG") ? signal : `SIG${signal}`,
      ...(typeof flags.processName === "string" ? { processName: flags.processName } : {}),
    });
  } else if (flags.processName !== undefined) {
    throw new SidecarError(
      ErrorCodes.USAGE,
      "--process-name needs --notify-signal (e.g. --notify-signal HUP)",
    );
  }
  if (notify.length) config.notify = notify;
  if (flags.wait !== undefined) {
    const seconds = Number(flags.wait);
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new SidecarError(
        ErrorCodes.USAGE,
        `--wait expects seconds, got "${String(flags.wait)}"`,
      );
    config.wait = { minSeconds: seconds };
  }
  if (flags.once === true) config.once = true;
  return Object.keys(config).length ? { config } : undefined;
}

export const configCommand: RoleCommand = {
  description:
    "fetch, render, validate and atomically publish the app's config, then notify the app",
  usage: "[options]",
  options: [
    {
      flags: "--once",
      description:
        "publish once and exit (an init container); non-zero when a required source cannot be read",
    },
    {
      flags: "--source-dir <path>",
      description:
        "a file or directory to publish, e.g. a mounted ConfigMap (its ..data swap is followed)",
    },
    {
      flags: "--source-url <url>",
      description:
        "a document to fetch over HTTP (polled with ETags every 30 s; long-polling needs -c)",
    },
    { flags: "--etcd <url>", description: "an etcd endpoint to read from, with --etcd-prefix" },
    {
      flags: "--etcd-prefix <prefix>",
      description: "publish every key under this etcd prefix as a file",
    },
    {
      flags: "--output-dir <dir>",
      description: "where the app reads its config (a volume shared with it)",
    },
    {
      flags: "--notify-url <url>",
      description:
        "POST here after each new version, retried until the app answers 2xx (repeatable)",
      repeatable: true,
    },
    {
      flags: "--notify-signal <signal>",
      description:
        "send this signal after each new version (HUP, USR1, …): to the app in sidecar run, else to --process-name",
    },
    {
      flags: "--process-name <name>",
      description: "with --notify-signal: the process to signal (a Pod with shareProcessNamespace)",
    },
    {
      flags: "--wait <seconds>",
      description: "publish once changes have been quiet this long (default 0.05)",
    },
  ],
  examples: [
    "sidecar config --source-dir /etc/configmap --output-dir /config --notify-url http://127.0.0.1:9090/-/reload",
    "sidecar config --once -c sidecar.yaml",
    "sidecar config --etcd http://etcd:2379 --etcd-prefix /app/ --output-dir /config --notify-signal HUP --process-name nginx",
  ],
  overlay: configOverlay,
  nothingToDo:
    "Nothing to publish: pass --source-dir PATH --output-dir DIR (or -c with a config section)",
};
