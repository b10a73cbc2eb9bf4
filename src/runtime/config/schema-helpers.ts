import { z } from "zod";

/** A TCP port, 1–65535. */
export const portSchema = z
  .number({ error: "expected integer 1–65535" })
  .int({ error: "expected integer 1–65535" })
  .min(1, { error: "expected integer 1–65535" })
  .max(65535, { error: "expected integer 1–65535" });

/** A non-negative number of seconds (fractions allowed). */
export function seconds(defaultValue: number, { min = 0 }: { min?: number } = {}) {
  return z
    .number({ error: "expected a number of seconds" })
    .min(min, { error: `expected a number of seconds ≥ ${min}` })
    .default(defaultValue);
}

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

/** A listen address `host:port` (port 0 picks a free one, for tests). */
export const addressSchema = z
  .string({ error: 'expected an address "host:port"' })
  .refine((value) => parseAddress(value) !== undefined, {
    error: 'expected an address "host:port" (e.g. "127.0.0.1:9901" or "[::1]:9901")',
  });

export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
