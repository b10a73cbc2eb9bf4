import { parseAddress } from "../runtime/config/schema-helpers.ts";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommand } from "../runtime/role-definition.ts";

export interface ProxyFlags {
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

/** `sidecar proxy`: the reverse proxy alone, next to the app. */
export const proxyCommand: RoleCommand = {
  description: "run the reverse proxy in front of the app (or the proxy: section of -c)",
  usage: "--listen HOST:PORT --upstream http://HOST:PORT | -c FILE",
  options: [
    { flags: "--listen <address>", description: "where to listen (default 0.0.0.0:8081)" },
    { flags: "--upstream <url>", description: "the app, e.g. http://127.0.0.1:8080" },
  ],
  examples: ["sidecar proxy --listen 0.0.0.0:8081 --upstream http://127.0.0.1:8080"],
  overlay: (flags) => proxyOverlay(flags as ProxyFlags),
  nothingToDo: "Nothing to proxy: give --upstream http://HOST:PORT, or -c with a proxy: section",
};
