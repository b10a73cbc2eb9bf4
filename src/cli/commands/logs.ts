import type { Command } from "commander";
import { ErrorCodes, SidecarError } from "../../runtime/errors.ts";
import { resolveConfigPath } from "../config-path.ts";
import { runSidecar } from "../run-sidecar.ts";

export interface LogsCommandOptions {
  config?: string;
  path?: string[];
  exclude?: string[];
  sink?: string[];
  parser?: string;
  readFrom?: string;
  stateDir?: string;
}

/**
 * A sink flag as config: `stdout`, `file:PATH`, `http://…`/`https://…` (NDJSON),
 * `syslog://HOST:PORT` (TCP, octet counting) or `syslog+udp://HOST:PORT`.
 */
export function sinkFromFlag(value: string): Record<string, unknown> {
  if (value === "stdout") return { type: "stdout" };
  if (value.startsWith("file:")) return { type: "file", path: value.slice("file:".length) };
  if (/^https?:\/\//.test(value)) return { type: "http", url: value };
  const syslog = /^syslog(\+tcp|\+udp)?:\/\/(?<host>\[[^\]]+\]|[^:/]+):(?<port>\d+)\/?$/.exec(
    value,
  );
  if (syslog?.groups) {
    return {
      type: "syslog",
      host: syslog.groups.host!.replace(/^\[|\]$/g, ""),
      port: Number(syslog.groups.port),
      protocol: syslog[1] === "+udp" ? "udp" : "tcp",
    };
  }
  throw new SidecarError(
    ErrorCodes.USAGE,
    `Unknown sink "${value}": expected stdout, file:PATH, http(s)://URL, syslog://HOST:PORT or syslog+udp://HOST:PORT`,
  );
}

/** The config overlay the `logs` command's flags stand for. */
export function logsOverlay(options: LogsCommandOptions): Record<string, unknown> {
  const logs: Record<string, unknown> = {};
  if (options.stateDir) logs.stateDir = options.stateDir;
  if (options.path?.length) {
    const source: Record<string, unknown> = { type: "file", include: options.path };
    if (options.exclude?.length) source.exclude = options.exclude;
    if (options.readFrom) source.readFrom = options.readFrom;
    if (options.parser) source.parser = { type: options.parser };
    logs.sources = [source];
  } else if (options.exclude?.length || options.readFrom || options.parser) {
    throw new SidecarError(ErrorCodes.USAGE, "--exclude, --read-from and --parser need --path");
  }
  if (options.sink?.length) logs.sinks = options.sink.map(sinkFromFlag);
  return { logs };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerLogsCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("logs")
    .description("tail log files and ship them to sinks (the logs role on its own)")
    .option(
      "-c, --config <file>",
      "config file (default: $SIDECAR_CONFIG); flags override its logs section",
    )
    .option("--path <glob>", "files to tail (repeatable), e.g. '/var/log/app/*.log'", collect)
    .option("--exclude <glob>", "files never to tail (repeatable), e.g. '*.gz'", collect)
    .option(
      "--sink <sink>",
      "where to send (repeatable): stdout, file:PATH, http(s)://URL, syslog://HOST:PORT, syslog+udp://HOST:PORT",
      collect,
    )
    .option("--parser <type>", "how to parse lines: none, json, logfmt, cri, docker")
    .option("--read-from <where>", "files found at start without a checkpoint: head or tail")
    .option("--state-dir <dir>", "where checkpoints are kept (default .sidecar/logs)")
    .addHelpText(
      "after",
      "\nExamples:\n  sidecar logs --path '/var/log/app/*.log' --sink stdout\n  sidecar logs --path '/var/log/pods/*/*/*.log' --parser cri --sink http://collector:8080/ingest",
    )
    .action(async (options: LogsCommandOptions) => {
      const configPath = resolveConfigPath(options.config);
      if (!configPath && !options.path?.length)
        throw new SidecarError(
          ErrorCodes.USAGE,
          "Nothing to tail: pass --path GLOB (or -c with a logs section)",
        );
      if (!configPath && !options.sink?.length)
        throw new SidecarError(
          ErrorCodes.USAGE,
          "Nowhere to send: pass --sink (e.g. --sink stdout)",
        );
      setExitCode(await runSidecar({ configPath, overlay: logsOverlay(options) }));
    });
}
