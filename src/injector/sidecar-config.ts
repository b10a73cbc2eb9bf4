import { stringify } from "yaml";
import type { z } from "zod";
import { configSectionSchema } from "../config-sync/config-section.ts";
import { configRoleDefinition } from "../config-sync/role-definition.ts";
import { syncRoleDefinition } from "../data-sync/role-definition.ts";
import { syncConfigSchema } from "../data-sync/sync-config.ts";
import { sinkFromFlag } from "../logs/logs-command.ts";
import { logsConfigSchema } from "../logs/logs-config.ts";
import { logsRoleDefinition } from "../logs/role-definition.ts";
import { proxyConfigSchema } from "../proxy/proxy-config.ts";
import { proxyRoleDefinition } from "../proxy/role-definition.ts";
import { parseConfigText, type SidecarConfig } from "../runtime/config/load-config.ts";
import { composeBuiltConfigSchema } from "../runtime/config/schema.ts";
import { isSidecarError } from "../runtime/errors.ts";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";
import type { InjectOptions } from "./inject-options.ts";

/**
 * The config the injected sidecar reads: the roles the injector configures. Built on first use
 * (only `sidecar inject` and the webhook load this module, and only they need it).
 */
let injectedConfigSchema: z.ZodType<SidecarConfig> | undefined;
function injectedSchema(): z.ZodType<SidecarConfig> {
  injectedConfigSchema ??= composeBuiltConfigSchema([
    { ...configRoleDefinition, schema: configSectionSchema },
    { ...syncRoleDefinition, schema: syncConfigSchema },
    { ...logsRoleDefinition, schema: logsConfigSchema },
    { ...proxyRoleDefinition, schema: proxyConfigSchema },
  ]);
  return injectedConfigSchema;
}

/** Where the injected sidecar sees the config role's source ConfigMap. */
export const configSourceDir = "/etc/sidecar/config-source";

/** Where the injected containers keep their state (logs checkpoints, sync upload journal): an emptyDir. */
export const stateDir = "/var/lib/sidecar";

/**
 * The sidecar.yaml of the injected container, from the options: a proxy on 0.0.0.0 in front
 * of the app on 127.0.0.1, and a logs role tailing the shared log directory. It travels in the
 * container's SIDECAR_CONFIG_YAML env (no ConfigMap to create at admission).
 */
export function sidecarConfigYaml(
  options: InjectOptions,
  where: string,
  variant: ConfigVariant = {},
): string {
  // Many templates share their options (a webhook sees the same annotations all day): build
  // and check each distinct config once.
  const key = JSON.stringify([options, variant]);
  const cached = generated.get(key);
  if (cached !== undefined) return cached;
  const text = buildConfigYaml(options, where, variant);
  if (generated.size >= 256) generated.delete(generated.keys().next().value!);
  generated.set(key, text);
  return text;
}

const generated = new Map<string, string>();

/**
 * Which container the config is for: the sidecar (a classic Job's one stops on `exitFile`), or
 * a classic Pod's init container that publishes the config once (`only: "config"`) or restores
 * the data (`only: "sync"`) before the app starts.
 */
export interface ConfigVariant {
  exitFile?: string;
  only?: "config" | "sync";
}

function buildConfigYaml(options: InjectOptions, where: string, variant: ConfigVariant): string {
  const { exitFile, only } = variant;
  const has = (role: InjectOptions["roles"][number]) =>
    options.roles.includes(role) && (only === undefined || only === role);
  const config: Record<string, unknown> = {
    admin: { address: "0.0.0.0:9901" },
    log: { format: "json" },
  };
  if (exitFile) config.shutdown = { whenFileExists: exitFile };
  if (has("proxy") && !only)
    config.proxy = {
      listeners: [
        {
          name: "ingress",
          address: `0.0.0.0:${options.proxyListenPort}`,
          routes: [{ match: { prefix: "/" }, cluster: "app" }],
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${options.appPort}`] } },
    };
  if (has("logs") && !only)
    config.logs = {
      stateDir: `${stateDir}/logs`,
      sources: [
        {
          type: "file",
          include: options.logPaths,
          ...(options.logParser === "none" ? {} : { parser: { type: options.logParser } }),
        },
      ],
      sinks: [sinkOf(options.logSink, where)],
      transforms: [
        {
          type: "add-fields",
          fromEnv: { pod: "POD_NAME", namespace: "POD_NAMESPACE", node: "NODE_NAME" },
        },
      ],
    };
  if (has("config")) config.config = configSection(options, only === "config");
  if (has("sync")) {
    const target = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.syncTarget ?? "");
    config.sync = {
      dataDir: options.syncDataDir,
      stateDir: `${stateDir}/sync`,
      target: { type: "s3", bucket: target?.[1], prefix: target?.[2] ?? "" },
    };
  }
  const text = stringify(config, { lineWidth: 0 });
  // Checked here, so that a Pod never starts with a config its sidecar refuses.
  try {
    parseConfigText(text, "generated config", { schema: injectedSchema(), env: {} });
  } catch (error) {
    const details = isSidecarError(error) ? error.details.join("; ") : String(error);
    throw injectError(
      InjectErrorCodes.INVALID,
      `${where}: the options give an invalid sidecar config: ${details}`,
      error,
    );
  }
  return text;
}

/** The config role's section: publish the source's files into the app's config directory. */
function configSection(options: InjectOptions, once: boolean): Record<string, unknown> {
  return {
    outputDir: options.configOutputDir,
    sources: [
      ...(options.configSourceConfigMap
        ? [{ name: "configmap", type: "file", path: configSourceDir }]
        : []),
      ...(options.configSourceUrl
        ? [{ name: "http", type: "http", url: options.configSourceUrl }]
        : []),
    ],
    ...(options.configNotifyUrl
      ? { notify: [{ type: "http", url: options.configNotifyUrl }] }
      : {}),
    ...(once ? { once: true } : {}),
  };
}

function sinkOf(sink: string, where: string): Record<string, unknown> {
  try {
    return sinkFromFlag(sink);
  } catch (error) {
    throw injectError(InjectErrorCodes.INVALID, `${where}: ${(error as Error).message}`, error);
  }
}
