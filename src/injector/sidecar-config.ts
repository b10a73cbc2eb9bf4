import { stringify } from "yaml";
import { sinkFromFlag } from "../logs/logs-command.ts";
import { logsRoleDefinition } from "../logs/role-definition.ts";
import { proxyRoleDefinition } from "../proxy/role-definition.ts";
import { parseConfigText } from "../runtime/config/load-config.ts";
import { composeConfigSchema } from "../runtime/config/schema.ts";
import { isSidecarError } from "../runtime/errors.ts";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";
import type { InjectOptions } from "./inject-options.ts";

/** The config the injected sidecar reads: the roles the injector configures. */
const injectedConfigSchema = composeConfigSchema([logsRoleDefinition, proxyRoleDefinition]);

/** Where the injected container keeps its state (logs checkpoints): an emptyDir. */
export const stateDir = "/var/lib/sidecar";

/**
 * The sidecar.yaml of the injected container, from the options: a proxy on 0.0.0.0 in front
 * of the app on 127.0.0.1, and a logs role tailing the shared log directory. It travels in the
 * container's SIDECAR_CONFIG_YAML env (no ConfigMap to create at admission).
 */
export function sidecarConfigYaml(
  options: InjectOptions,
  where: string,
  exitFile?: string,
): string {
  // Many templates share their options (a webhook sees the same annotations all day): build
  // and check each distinct config once.
  const key = JSON.stringify([options, exitFile]);
  const cached = generated.get(key);
  if (cached !== undefined) return cached;
  const text = buildConfigYaml(options, where, exitFile);
  if (generated.size >= 256) generated.delete(generated.keys().next().value!);
  generated.set(key, text);
  return text;
}

const generated = new Map<string, string>();

function buildConfigYaml(
  options: InjectOptions,
  where: string,
  exitFile: string | undefined,
): string {
  const config: Record<string, unknown> = {
    admin: { address: "0.0.0.0:9901" },
    log: { format: "json" },
  };
  if (exitFile) config.shutdown = { whenFileExists: exitFile };
  if (options.roles.includes("proxy"))
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
  if (options.roles.includes("logs"))
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
  const text = stringify(config, { lineWidth: 0 });
  // Checked here, so that a Pod never starts with a config its sidecar refuses.
  try {
    parseConfigText(text, "generated config", { schema: injectedConfigSchema, env: {} });
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

function sinkOf(sink: string, where: string): Record<string, unknown> {
  try {
    return sinkFromFlag(sink);
  } catch (error) {
    throw injectError(InjectErrorCodes.INVALID, `${where}: ${(error as Error).message}`, error);
  }
}
