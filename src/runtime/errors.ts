import { ErrorCodes } from "./error-codes.ts";

export { ErrorCodes } from "./error-codes.ts";

/**
 * Every error the sidecar raises on purpose carries a stable code `SIDECAR_ERR_*`. Callers match
 * on `code`, never on the message. Codes are declared in an `error-codes.ts` per area (the
 * runtime's, each role's) and each has a row in docs/errors.md (a test keeps them in sync).
 */
/** Exit codes other than 1 for the runtime's own codes. */
const exitCodeByCode: Record<string, number> = {
  [ErrorCodes.USAGE]: 2,
  [ErrorCodes.CONFIG_NOT_FOUND]: 2,
  [ErrorCodes.CONFIG_READ]: 2,
  [ErrorCodes.CONFIG_YAML]: 2,
  [ErrorCodes.CONFIG_INVALID]: 2,
  [ErrorCodes.APP_NOT_FOUND]: 127,
  [ErrorCodes.APP_NOT_EXECUTABLE]: 126,
};

export interface SidecarErrorOptions {
  cause?: unknown;
  /** The exit code this error ends the program with; default by code (see exitCode). */
  exitCode?: number;
  /** Extra lines shown to the user under the message (e.g. every config problem). */
  details?: readonly string[];
}

/**
 * The one error base class of the program.
 *
 * @example
 * throw new SidecarError(ErrorCodes.PORT_IN_USE, 'Admin server cannot listen on "127.0.0.1:9901": address already in use');
 */
export class SidecarError extends Error {
  readonly code: string;
  readonly details: readonly string[];
  readonly #exitCode: number | undefined;

  constructor(code: string, message: string, options: SidecarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SidecarError";
    this.code = code;
    this.details = options.details ?? [];
    this.#exitCode = options.exitCode;
  }

  /** The process exit code this error ends the program with: 2 usage/config, 127/126 app command, else 1. */
  get exitCode(): number {
    return this.#exitCode ?? exitCodeByCode[this.code] ?? 1;
  }
}

export function isSidecarError(error: unknown): error is SidecarError {
  return error instanceof SidecarError;
}

/** A short, single-line description of any thrown value, for logs and messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
