import { z } from "zod";
import { parseAddress } from "./address.ts";

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

/** A listen address `host:port` (port 0 picks a free one, for tests). */
export const addressSchema = z
  .string({ error: 'expected an address "host:port"' })
  .refine((value) => parseAddress(value) !== undefined, {
    error: 'expected an address "host:port" (e.g. "127.0.0.1:9901" or "[::1]:9901")',
  });
