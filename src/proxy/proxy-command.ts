import { parseAddress } from "../runtime/config/address.ts";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommand } from "../runtime/role-definition.ts";

export interface ProxyFlags {
  listen?: string;
  upstream?: string;
  tlsCert?: string;
  tlsKey?: string;
  apiKeys?: string;
  public?: string;
}

/**
 * The `proxy:` overlay for the flags: one listener (TLS with `--tls-cert`/`--tls-key`), one
 * cluster "app"; with `--api-keys`, every path but the `--public` ones needs an API key.
 */
export function proxyOverlay(flags: ProxyFlags): Record<string, unknown> | undefined {
  const { listen, upstream, tlsCert, tlsKey, apiKeys } = flags;
  if (upstream === undefined) {
    const given = (["listen", "tlsCert", "tlsKey", "apiKeys", "public"] as const).find(
      (name) => flags[name] !== undefined,
    );
    if (given !== undefined)
      throw new SidecarError(
        ErrorCodes.USAGE,
        `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --upstream (or a proxy: section with -c)`,
      );
    return undefined;
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new SidecarError(ErrorCodes.USAGE, "--tls-cert and --tls-key go together");
  if (flags.public !== undefined && apiKeys === undefined)
    throw new SidecarError(ErrorCodes.USAGE, "--public needs --api-keys");
  const publicPaths = (flags.public ?? "").split(",").filter(Boolean);
  for (const path of publicPaths)
    if (!path.startsWith("/"))
      throw new SidecarError(ErrorCodes.USAGE, `Invalid --public path "${path}": expected /PATH`);
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
  const guarded =
    apiKeys === undefined ? {} : { filters: [{ type: "api-key", keys: { file: apiKeys } }] };
  return {
    proxy: {
      listeners: [
        {
          name: "ingress",
          address: listenAddress,
          ...(tlsCert === undefined ? {} : { tls: { certFile: tlsCert, keyFile: tlsKey } }),
          routes: [
            ...publicPaths.map((path) => ({ match: { path }, cluster: "app" })),
            { match: { prefix: "/" }, cluster: "app", ...guarded },
          ],
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
    {
      flags: "--tls-cert <file>",
      description: "serve HTTPS with this PEM certificate (reloaded on change)",
    },
    { flags: "--tls-key <file>", description: "the certificate's PEM key" },
    {
      flags: "--api-keys <file>",
      description: "require an x-api-key from this file (id: key per line)",
    },
    {
      flags: "--public <paths>",
      description: "comma-separated exact paths open without a key, e.g. /healthz",
    },
  ],
  examples: [
    "sidecar proxy --listen 0.0.0.0:8081 --upstream http://127.0.0.1:8080",
    "sidecar proxy --listen 0.0.0.0:8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key --api-keys /keys/keys.yaml --public /healthz --upstream http://127.0.0.1:8080",
  ],
  overlay: (flags) => proxyOverlay(flags as ProxyFlags),
  nothingToDo: "Nothing to proxy: give --upstream http://HOST:PORT, or -c with a proxy: section",
};
