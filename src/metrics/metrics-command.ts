import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommand } from "../runtime/role-definition.ts";

/** The `metrics:` overlay `sidecar metrics` flags stand for; undefined without flags. */
export function metricsOverlay(
  flags: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const metrics: Record<string, unknown> = {};
  if (typeof flags.appUrl === "string") metrics.url = flags.appUrl;
  if (typeof flags.timeout === "string") metrics.timeoutSeconds = Number(flags.timeout);
  const list = (key: string) => (Array.isArray(flags[key]) ? (flags[key] as string[]) : []);
  if (list("keep").length) metrics.keep = list("keep");
  if (list("drop").length) metrics.drop = list("drop");
  if (list("label").length) {
    const labels: Record<string, string> = {};
    for (const pair of list("label")) {
      const eq = pair.indexOf("=");
      if (eq <= 0)
        throw new SidecarError(ErrorCodes.USAGE, `Invalid --label "${pair}": expected NAME=VALUE`);
      labels[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    metrics.labels = labels;
  }
  return Object.keys(metrics).length ? { metrics } : undefined;
}

/** `sidecar metrics`: the app's metrics merged into the sidecar's /metrics. */
export const metricsCommand: RoleCommand = {
  description:
    "serve the app's Prometheus metrics with the sidecar's own on /metrics (metrics merge)",
  options: [
    {
      flags: "--app-url <url>",
      description: "the app's metrics endpoint, e.g. http://127.0.0.1:8080/metrics",
    },
    {
      flags: "--timeout <seconds>",
      description: "how long a scrape of the app may take (default 3)",
    },
    {
      flags: "--keep <regex>",
      description: "serve only families whose name matches (repeatable)",
      repeatable: true,
    },
    {
      flags: "--drop <regex>",
      description: "leave out families whose name matches (repeatable)",
      repeatable: true,
    },
    {
      flags: "--label <name=value>",
      description: "add a label to every app series (repeatable)",
      repeatable: true,
    },
  ],
  examples: [
    "sidecar metrics --app-url http://127.0.0.1:8080/metrics --admin-address 0.0.0.0:9901",
    "sidecar metrics --app-url http://127.0.0.1:8080/metrics --drop '^go_' --label pod=$POD_NAME",
  ],
  overlay: (flags) => metricsOverlay(flags),
  nothingToDo: "Nothing to merge: pass --app-url URL, or -c with a metrics: section",
};
