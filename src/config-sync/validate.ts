import { execFile } from "node:child_process";
import { Ajv, type ValidateFunction } from "ajv";

/** Compiles a JSON Schema once; throws with ajv's reason when the schema itself is wrong. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

/** Runs a compiled schema; returns the problems (`/port: must be integer`), empty when valid. */
export function schemaProblems(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || "/"}: ${error.message ?? "is invalid"}`,
  );
}

export interface CheckCommand {
  command: readonly string[];
  timeoutSeconds: number;
}

/**
 * Runs a check command (like `nginx -t -c {file}`) on a staged output, without a shell.
 * Resolves with undefined when it exits 0, else with the reason (exit code and the end of its output).
 */
export function runCheck(
  check: CheckCommand,
  placeholders: { file: string; dir: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const args = check.command.map((arg) =>
    arg.replaceAll("{file}", placeholders.file).replaceAll("{dir}", placeholders.dir),
  );
  return new Promise((resolve) => {
    execFile(
      args[0]!,
      args.slice(1),
      {
        timeout: check.timeoutSeconds * 1000,
        killSignal: "SIGKILL",
        maxBuffer: 1024 * 1024,
        env: {
          ...env,
          SIDECAR_CONFIG_FILE: placeholders.file,
          SIDECAR_CONFIG_DIR: placeholders.dir,
        },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(undefined);
        const output = `${stderr}${stdout}`.trim().split("\n").slice(-3).join(" | ").slice(0, 500);
        const how =
          error.killed && error.signal === "SIGKILL"
            ? `timed out after ${check.timeoutSeconds} s`
            : typeof error.code === "number"
              ? `exited with ${error.code}`
              : error.message;
        resolve(`check command "${args[0]}" ${how}${output ? `: ${output}` : ""}`);
      },
    );
  });
}
