import type { Command } from "commander";
import { loadConfigFile } from "../../runtime/config/load-config.ts";
import { parseAddress } from "../../runtime/config/schema-helpers.ts";
import { ErrorCodes, SidecarError } from "../../runtime/errors.ts";
import { resolveConfigPath } from "../config-path.ts";
import { runSidecar } from "../run-sidecar.ts";

export interface ProxyFlags {
  config?: string;
  listen?: string;
  upstream?: string;
}

/** The `proxy:` overlay for `--listen`/`--upstream`: one listener, one route, one cluster "app". */
export function proxyOverlay({
  listen,
  upstream,
}: ProxyFlags): Record<string, unknown> | undefined {
  if (upstream === undefined) {
    if (listen !== undefined)
      throw new SidecarError(
        ErrorCodes.USAGE,
        "--listen needs --upstream (or a proxy: section with -c)",
      );
    return undefined;
  }
  const match = /^http:\/\/([^/]+?)\/?$/.exec(upstream);
  const endpoint = match?.[1];
  const address = endpoint && (parseAddress(endpoint) ?? parseAddress(`${endpoint}:80`));
  if (!address || !endpoint)
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Invalid --upstream "${upstream}": expected http://HOST:PORT (e.g. http://127.0.0.1:8080)`,
    );
  const listenAddress = listen ?? "0.0.0.0:8081";
  if (!parseAddress(listenAddress))
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Invalid --listen "${listenAddress}": expected HOST:PORT (e.g. 0.0.0.0:8081)`,
    );
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  const isName = !/^[\d.]+$/.test(address.host) && !address.host.includes(":");
  return {
    proxy: {
      listeners: [
        {
          name: "ingress",
          address: listenAddress,
          routes: [{ match: { prefix: "/" }, cluster: "app" }],
        },
      ],
      clusters: {
        app: { type: isName ? "dns" : "static", endpoints: [`${host}:${address.port}`] },
      },
    },
  };
}

export function registerProxyCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("proxy")
    .description("run the reverse proxy in front of the app (or the proxy: section of -c)")
    .usage("--listen HOST:PORT --upstream http://HOST:PORT | -c FILE")
    .option("-c, --config <file>", "config file (default: $SIDECAR_CONFIG)")
    .option("--listen <address>", "where to listen (default 0.0.0.0:8081)")
    .option("--upstream <url>", "the app, e.g. http://127.0.0.1:8080")
    .addHelpText(
      "after",
      "\nExample:\n  sidecar proxy --listen 0.0.0.0:8081 --upstream http://127.0.0.1:8080",
    )
    .action(async (options: ProxyFlags) => {
      const configPath = resolveConfigPath(options.config);
      const overlay = proxyOverlay(options);
      if (!overlay) {
        const loaded = configPath === undefined ? undefined : await loadConfigFile(configPath);
        if (!loaded?.config.proxy)
          throw new SidecarError(
            ErrorCodes.USAGE,
            `Nothing to proxy: give --upstream http://HOST:PORT, or -c with a proxy: section${configPath ? ` (${configPath} has none)` : ""}`,
          );
      }
      setExitCode(await runSidecar({ configPath, ...(overlay ? { overlay } : {}) }));
    });
}
