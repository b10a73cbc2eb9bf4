import { execFile } from "node:child_process";
import { SidecarError } from "../../runtime/errors.ts";
import { ConfigErrorCodes } from "../error-codes.ts";
import type { CommandNotifyConfig } from "./notify-config.ts";
import type { NotifyTarget, NotifyVersion } from "./notify-target.ts";

/** Runs a command (no shell) with SIDECAR_CONFIG_VERSION and SIDECAR_CONFIG_DIR set; non-zero exit fails. */
export class CommandNotifyTarget implements NotifyTarget {
  readonly kind = "command";
  readonly describe: string;
  readonly #config: CommandNotifyConfig;

  constructor(config: CommandNotifyConfig) {
    this.#config = config;
    this.describe = `command "${config.command[0]}"`;
  }

  send(version: NotifyVersion): Promise<void> {
    const [file, ...args] = this.#config.command;
    return new Promise((resolve, reject) => {
      execFile(
        file!,
        args,
        {
          timeout: this.#config.timeoutSeconds * 1000,
          killSignal: "SIGKILL",
          maxBuffer: 1024 * 1024,
          env: {
            ...process.env,
            SIDECAR_CONFIG_VERSION: version.hash,
            SIDECAR_CONFIG_DIR: version.dir,
          },
        },
        (error, stdout, stderr) => {
          if (!error) return resolve();
          const output = `${stderr}${stdout}`
            .trim()
            .split("\n")
            .slice(-3)
            .join(" | ")
            .slice(0, 300);
          const how =
            error.killed && error.signal === "SIGKILL"
              ? `timed out after ${this.#config.timeoutSeconds} s`
              : typeof error.code === "number"
                ? `exited with ${error.code}`
                : error.message;
          reject(
            new SidecarError(
              ConfigErrorCodes.NOTIFY,
              `Notify ${this.describe} ${how}${output ? `: ${output}` : ""}`,
            ),
          );
        },
      );
    });
  }
}
