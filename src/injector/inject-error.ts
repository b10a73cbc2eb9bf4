import { SidecarError } from "../runtime/errors.ts";

/** An injector error: a usage problem of the input, so the command exits 2. */
export function injectError(code: string, message: string, cause?: unknown): SidecarError {
  return new SidecarError(code, message, {
    exitCode: 2,
    ...(cause === undefined ? {} : { cause }),
  });
}
