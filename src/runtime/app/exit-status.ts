import { constants } from "node:os";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The shell's convention: the exit code, or 128 + the signal's number when killed by one. */
export function exitCodeOf({ code, signal }: ExitStatus): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}

export function describeExit({ code, signal }: ExitStatus): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}
