/** The config file named by -c/--config, else SIDECAR_CONFIG, else none (built-in defaults). */
export function resolveConfigPath(flag: string | undefined, env = process.env): string | undefined {
  return flag ?? (env.SIDECAR_CONFIG || undefined);
}
