import { type DestinationStream, type Logger, pino } from "pino";
import { createPrettyStream } from "./pretty-stream.ts";

export type { Logger } from "pino";

/** Keys whose values are never logged, wherever they appear (one level deep). */
export const redactedKeys = [
  "password",
  "token",
  "secret",
  "apiKey",
  "authorization",
  "*.password",
  "*.token",
  "*.secret",
  "*.apiKey",
  "*.authorization",
  'headers["authorization"]',
  'headers["cookie"]',
];

export interface CreateLoggerOptions {
  level?: string;
  /**
   * `json` (one JSON event per line on stdout, for containers), `pretty` (short readable lines
   * on stderr) or `auto` (default): pretty when stderr is a terminal, as in a local `sidecar run`.
   */
  format?: string;
  /** Where JSON lines go; stdout by default. Given, it takes every line whatever the format. */
  destination?: DestinationStream;
}

/** Whether `format` (json, pretty or auto) means short readable lines here. */
export function isPretty(
  format: string | undefined,
  stderrIsTty = process.stderr.isTTY === true,
): boolean {
  return format === "pretty" || (format !== "json" && stderrIsTty);
}

/**
 * The program's logger: JSON lines on stdout, one event per line, secrets masked (or short
 * lines on a terminal, see `format`), level from the argument, else SIDECAR_LOG_LEVEL, else "info".
 */
export function createLogger({ level, format, destination }: CreateLoggerOptions = {}): Logger {
  const pretty = !destination && isPretty(format);
  return pino(
    {
      level: level ?? process.env.SIDECAR_LOG_LEVEL ?? "info",
      base: { component: "sidecar" },
      messageKey: "msg",
      errorKey: "error",
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedKeys, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ??
      (pretty
        ? createPrettyStream({
            write: (text) => process.stderr.write(text),
            color: process.stderr.isTTY === true,
          })
        : pino.destination({ dest: 1, sync: true })),
  );
}
