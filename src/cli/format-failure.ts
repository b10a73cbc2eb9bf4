import { describeError, isSidecarError } from "../runtime/errors.ts";

/** What the user sees when a command fails: the message and its details, never a stack trace. */
export function formatFailure(error: unknown): string {
  if (isSidecarError(error)) {
    const details = error.details.map((line) => `  ${line}\n`).join("");
    return `sidecar: ${error.message} [${error.code}]\n${details}`;
  }
  return `sidecar: unexpected error: ${describeError(error)}\n  (this is a bug; please report it with the command you ran)\n`;
}
