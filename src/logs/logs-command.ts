import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommand } from "../runtime/role-definition.ts";

export interface LogsCommandOptions {
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

/** `sidecar logs`: tail files and ship them, the logs role alone. */
export const logsCommand: RoleCommand = {
  description: "tail log files and ship them to sinks (the logs role on its own)",
  options: [
    {
      flags: "--path <glob>",
      description: "files to tail (repeatable), e.g. '/var/log/app/*.log'",
      repeatable: true,
    },
    {
      flags: "--exclude <glob>",
      description: "files never to tail (repeatable), e.g. '*.gz'",
      repeatable: true,
    },
    {
      flags: "--sink <sink>",
      description:
        "where to send (repeatable): stdout, file:PATH, http(s)://URL, syslog://HOST:PORT, syslog+udp://HOST:PORT",
      repeatable: true,
    },
    {
      flags: "--parser <type>",
      description: "how to parse lines: none, json, logfmt, cri, docker",
    },
    {
      flags: "--read-from <where>",
      description: "files found at start without a checkpoint: head or tail",
    },
    {
      flags: "--state-dir <dir>",
      description: "where checkpoints are kept (default .sidecar/logs)",
    },
  ],
  examples: [
    "sidecar logs --path '/var/log/app/*.log' --sink stdout",
    "sidecar logs --path '/var/log/pods/*/*/*.log' --parser cri --sink http://collector:8080/ingest",
  ],
  overlay(flags, { configPath }) {
    const options = flags as LogsCommandOptions;
    if (!configPath && !options.path?.length)
      throw new SidecarError(
        ErrorCodes.USAGE,
        "Nothing to tail: pass --path GLOB (or -c with a logs section)",
      );
    if (!configPath && !options.sink?.length)
      throw new SidecarError(ErrorCodes.USAGE, "Nowhere to send: pass --sink (e.g. --sink stdout)");
    return logsOverlay(options);
  },
  nothingToDo: "Nothing to tail: pass --path GLOB, or -c with a logs: section",
};
