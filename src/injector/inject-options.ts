import { Annotations } from "./annotations.ts";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";

export const injectableRoles = ["proxy", "logs"] as const;
export type InjectableRole = (typeof injectableRoles)[number];

/** What to inject into one Pod template: flags over annotations over defaults. */
export interface InjectOptions {
  roles: InjectableRole[];
  appPort: number | undefined;
  proxyListenPort: number;
  logPaths: string[];
  logSink: string;
  logParser: string;
  configMap: string | undefined;
  image: string;
  /** A classic sidecar (a second entry under `containers`) instead of a native one. */
  classic: boolean;
}

/** Values given on the command line; each wins over the workload's annotation. */
export interface InjectFlags {
  roles?: string | undefined;
  proxyPort?: string | undefined;
  proxyListenPort?: string | undefined;
  logPaths?: string | undefined;
  logSink?: string | undefined;
  logParser?: string | undefined;
  configMap?: string | undefined;
  image?: string | undefined;
  classic?: boolean | undefined;
}

export const defaultImage = "ghcr.io/sidecar-dev/sidecar:0.1.0";

function port(value: string, where: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535)
    throw injectError(
      InjectErrorCodes.INVALID,
      `${where}: expected a port 1–65535, got "${value}"`,
    );
  return n;
}

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * The options for one Pod template. `where` names the document and path in messages, e.g.
 * `app.yaml: Deployment/web spec.template`. Throws SIDECAR_ERR_INJECT_INVALID.
 */
export function resolveInjectOptions(
  flags: InjectFlags,
  annotations: Readonly<Record<string, string>>,
  where: string,
): InjectOptions {
  const pick = (flag: string | undefined, key: string) =>
    flag !== undefined
      ? { value: flag, from: `--${flagName(key)}` }
      : annotations[key] !== undefined
        ? { value: annotations[key]!, from: `${where} annotation ${key}` }
        : undefined;
  const roles = pick(flags.roles, Annotations.roles);
  const roleList = roles ? list(roles.value) : undefined;
  for (const role of roleList ?? [])
    if (!injectableRoles.includes(role as InjectableRole))
      throw injectError(
        InjectErrorCodes.INVALID,
        `${roles!.from}: unknown role "${role}" (expected ${injectableRoles.join(", ")})`,
      );
  const appPort = pick(flags.proxyPort, Annotations.proxyPort);
  const listen = pick(flags.proxyListenPort, Annotations.proxyListenPort);
  const logPaths = pick(flags.logPaths, Annotations.logPaths);
  const options: InjectOptions = {
    roles: (roleList as InjectableRole[] | undefined) ?? [
      ...(appPort ? (["proxy"] as const) : []),
      ...(logPaths ? (["logs"] as const) : []),
    ],
    appPort: appPort ? port(appPort.value, appPort.from) : undefined,
    proxyListenPort: listen ? port(listen.value, listen.from) : 8081,
    logPaths: logPaths ? list(logPaths.value) : [],
    logSink: pick(flags.logSink, Annotations.logSink)?.value ?? "stdout",
    logParser: pick(flags.logParser, Annotations.logParser)?.value ?? "none",
    configMap: pick(flags.configMap, Annotations.configMap)?.value,
    image: pick(flags.image, Annotations.image)?.value ?? defaultImage,
    classic: flags.classic ?? false,
  };
  if (!options.configMap) {
    if (options.roles.length === 0)
      throw injectError(
        InjectErrorCodes.INVALID,
        `${where}: nothing to inject: give roles (--roles or ${Annotations.roles}) with their options, or a sidecar.yaml ConfigMap (${Annotations.configMap})`,
      );
    if (options.roles.includes("proxy") && options.appPort === undefined)
      throw injectError(
        InjectErrorCodes.INVALID,
        `${where}: the proxy role needs the app's port (--proxy-port or annotation ${Annotations.proxyPort})`,
      );
    if (options.roles.includes("logs") && options.logPaths.length === 0)
      throw injectError(
        InjectErrorCodes.INVALID,
        `${where}: the logs role needs the app's log files (--log-paths or annotation ${Annotations.logPaths})`,
      );
    for (const path of options.logPaths)
      if (
        !path.startsWith("/") ||
        path
          .split("/")
          .slice(0, -1)
          .some((part) => /[*?[]/.test(part))
      )
        throw injectError(
          InjectErrorCodes.INVALID,
          `${where}: log path "${path}" must be absolute, with a glob only in its file name (e.g. /var/log/app/*.log)`,
        );
  }
  return options;
}

function flagName(annotation: string): string {
  return annotation.replace("sidecar.dev/", "").replace("config-configmap", "config-map");
}
