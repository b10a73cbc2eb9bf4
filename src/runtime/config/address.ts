/**
 * `host:port` addresses as the config writes them, without the schema library: what the
 * running roles parse and print (a listener's bind address, an endpoint), so code that runs
 * after validation does not load zod (docs/proxy.md, "Fitting the Pod").
 */

const addressPattern = /^(?:\[(?<v6>[0-9a-fA-F:.]+)\]|(?<host>[^:\s[\]]+)):(?<port>\d{1,5})$/;

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `host:port` or `[v6]:port`; returns undefined when it is neither. */
export function parseAddress(value: string): ListenAddress | undefined {
  const groups = addressPattern.exec(value)?.groups;
  if (!groups) return undefined;
  const port = Number(groups.port);
  if (port < 0 || port > 65535) return undefined;
  return { host: (groups.v6 ?? groups.host)!, port };
}

/** `host:port`, with the host in brackets when it is an IPv6 address. */
export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
