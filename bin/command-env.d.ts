/** The variables `sidecar <command>` adds to `env` (see command-env.js). */
export function commandEnvFor(
  command: string | undefined,
  env?: Record<string, string | undefined>,
): Record<string, string>;
