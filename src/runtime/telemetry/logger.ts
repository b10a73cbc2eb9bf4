import { type DestinationStream, type Logger, pino } from "pino";

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
  /** Where JSON lines go; stdout by default. */
  destination?: DestinationStream;
}

/**
 * The program's logger: JSON lines on stdout, one event per line, secrets masked,
 * level from the argument, else SIDECAR_LOG_LEVEL, else "info".
 */
export function createLogger({ level, destination }: CreateLoggerOptions = {}): Logger {
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
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
