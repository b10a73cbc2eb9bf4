import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import type { RoleCommand, RoleCommandKit } from "../runtime/role-definition.ts";
import { createLogger } from "../runtime/telemetry/logger.ts";
import { RestoreExitCodes, SyncErrorCodes } from "./error-codes.ts";
import type { SyncConfig } from "./sync-config.ts";

export interface SyncFlags {
  config?: string;
  dataDir?: string;
  target?: string;
  s3Endpoint?: string;
  deletes?: string;
  exclude?: string[];
  interval?: string;
  once?: boolean;
}

/** A `--target` value as a target section: `s3://bucket/prefix` or a directory path. */
export function targetFromFlag(
  value: string,
  s3Endpoint: string | undefined,
): Record<string, unknown> {
  const s3 = /^s3:\/\/(?<bucket>[^/]+)\/?(?<prefix>.*)$/.exec(value);
  if (s3?.groups) {
    return {
      type: "s3",
      bucket: s3.groups.bucket,
      prefix: s3.groups.prefix,
      ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {}),
    };
  }
  if (s3Endpoint)
    throw new SidecarError(ErrorCodes.USAGE, "--s3-endpoint needs --target s3://BUCKET/PREFIX");
  if (/^[a-z0-9+]+:\/\//i.test(value))
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Unknown target "${value}": expected a directory or s3://BUCKET/PREFIX`,
    );
  return { type: "dir", path: value };
}

/** The `sync` overlay the common flags stand for, or undefined when none was given. */
export function syncOverlay(flags: SyncFlags): Record<string, unknown> | undefined {
  const sync: Record<string, unknown> = {};
  if (flags.dataDir) sync.dataDir = flags.dataDir;
  if (flags.target) sync.target = targetFromFlag(flags.target, flags.s3Endpoint);
  else if (flags.s3Endpoint)
    throw new SidecarError(ErrorCodes.USAGE, "--s3-endpoint needs --target s3://BUCKET/PREFIX");
  if (flags.deletes) {
    if (flags.deletes !== "keep" && flags.deletes !== "mirror")
      throw new SidecarError(
        ErrorCodes.USAGE,
        `Invalid --deletes "${flags.deletes}": expected keep or mirror`,
      );
    sync.deletes = flags.deletes;
  }
  if (flags.exclude?.length) sync.exclude = flags.exclude;
  if (flags.interval !== undefined) {
    const seconds = Number(flags.interval);
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new SidecarError(
        ErrorCodes.USAGE,
        `Invalid --interval "${flags.interval}": expected seconds ≥ 0`,
      );
    sync.intervalSeconds = seconds;
  }
  if (flags.once) sync.once = true;
  return Object.keys(sync).length > 0 ? { sync } : undefined;
}

const targetOptions = [
  { flags: "--data-dir <dir>", description: "the app's data directory (overrides sync.dataDir)" },
  {
    flags: "--target <target>",
    description:
      "a directory or s3://BUCKET/PREFIX (overrides sync.target); S3 credentials come from the AWS SDK's default chain",
  },
  {
    flags: "--s3-endpoint <url>",
    description: "an S3-compatible store's endpoint (path-style), e.g. http://minio:9000",
  },
];

/** The validated `sync` section from -c and the flags; a usage error when there is none. */
async function loadSection(
  flags: SyncFlags,
  kit: RoleCommandKit,
): Promise<{ sync: SyncConfig; logLevel: string }> {
  const configPath = kit.configPath(flags.config);
  const overlay = syncOverlay(flags);
  if (!configPath && !overlay)
    throw new SidecarError(
      ErrorCodes.USAGE,
      "Nothing to do: pass -c with a sync: section, or --data-dir and --target",
    );
  const { config } = await kit.loadConfig(configPath, overlay);
  const section = config.sync as SyncConfig | undefined;
  if (!section)
    throw new SidecarError(
      ErrorCodes.USAGE,
      `${configPath ?? "The config"} has no sync: section: pass --data-dir and --target`,
    );
  const { syncConfigSchema } = await import("./sync-config.ts"); // loaded already: the file has sync:
  return { sync: syncConfigSchema.parse(section), logLevel: config.log.level };
}

function parseTime(value: string): number {
  const relative = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  if (relative) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[relative[2] as "s" | "m" | "h" | "d"];
    return Date.now() - Number(relative[1]) * unit;
  }
  const time = Date.parse(value);
  if (Number.isNaN(time))
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Invalid --at "${value}": expected a date-time (2026-11-27T18:00:00Z) or an age (90m, 2h, 1d)`,
    );
  return time;
}

/** `sidecar sync restore`: one restore, then exit 0 (restored), 3 (nothing to restore), 4 (not empty) or 1. */
async function restoreAction(flags: Record<string, unknown>, kit: RoleCommandKit): Promise<number> {
  const { sync, logLevel } = await loadSection(flags as SyncFlags, kit);
  const logger = createLogger({ level: logLevel }).child({ role: "sync" });
  const version = flags.version === undefined ? undefined : Number(flags.version);
  if (version !== undefined && !(Number.isInteger(version) && version > 0))
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Invalid --version "${String(flags.version)}": expected a version number ≥ 1`,
    );
  const at = typeof flags.at === "string" ? parseTime(flags.at) : undefined;
  // The sync's code is imported when a subcommand runs: every other command (`sidecar proxy`)
  // registers this one, and should not load the targets, the manifest and the restore.
  const [{ createTarget }, { restoreProgressReporter }, { restore }] = await Promise.all([
    import("./targets/create-target.ts"),
    import("./restore-progress.ts"),
    import("./restore.ts"),
  ]);
  const target = createTarget(sync.target);
  const progress = restoreProgressReporter({ stream: process.stderr, logger });
  try {
    const result = await restore({
      dataDir: sync.dataDir,
      target,
      logger,
      force: flags.force === true,
      includeDeleted: flags.includeDeleted === true,
      concurrency: sync.concurrency,
      onProgress: progress.update,
      ...(version !== undefined ? { version } : {}),
      ...(at !== undefined ? { at } : {}),
    });
    progress.done();
    if (result.status === "restored") return 0;
    if (result.status === "nothing-to-restore") {
      logger.info(
        { target: target.description, code: SyncErrorCodes.NOTHING_TO_RESTORE },
        `nothing to restore: ${result.reason}`,
      );
      return flags.ifExists === true ? 0 : RestoreExitCodes.nothingToRestore;
    }
    logger.info(
      { dataDir: sync.dataDir, code: SyncErrorCodes.NOT_EMPTY },
      "data directory is not empty: nothing restored (--force replaces it)",
    );
    return flags.ifEmpty === true ? 0 : RestoreExitCodes.notEmpty;
  } finally {
    target.close();
  }
}

/** `sidecar sync status`: what the target holds. */
async function statusAction(flags: Record<string, unknown>, kit: RoleCommandKit): Promise<number> {
  const { sync } = await loadSection(flags as SyncFlags, kit);
  const [{ createTarget }, { Repository }, { manifestTotals }, { formatBytes }] = await Promise.all(
    [
      import("./targets/create-target.ts"),
      import("./repository.ts"),
      import("./manifest.ts"),
      import("./sync-status.ts"),
    ],
  );
  const target = createTarget(sync.target);
  try {
    const repository = new Repository(target);
    const versions = await repository.versions();
    const latest = await repository.latest();
    const objects = await target.list("objects/");
    const totals = manifestTotals(latest);
    const kept = (latest?.files.length ?? 0) - totals.files;
    const status = {
      target: target.description,
      versions: versions.map((v) => ({
        version: v.version,
        createdAt: new Date(v.createdAtMs).toISOString(),
      })),
      latest: latest
        ? {
            version: latest.version,
            createdAt: latest.createdAt,
            files: totals.files,
            bytes: totals.bytes,
            deletedKept: kept,
          }
        : null,
      ageSeconds: latest ? Math.round((Date.now() - Date.parse(latest.createdAt)) / 1000) : null,
      objects: { count: objects.length, bytes: objects.reduce((sum, o) => sum + (o.size ?? 0), 0) },
    };
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    const lines = [`target    ${status.target}`];
    if (!latest) lines.push("backup    none");
    else {
      lines.push(
        `latest    version ${latest.version} at ${latest.createdAt} (${status.ageSeconds} s ago): ${totals.files} file${totals.files === 1 ? "" : "s"}, ${formatBytes(totals.bytes)}${kept ? `, ${kept} deleted files kept` : ""}`,
        `versions  ${versions.length}: ${versions.map((v) => v.version).join(", ")}`,
        `objects   ${status.objects.count}, ${formatBytes(status.objects.bytes)}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    target.close();
  }
}

/** `sidecar sync` and its subcommands `restore` and `status`. */
export const syncCommand: RoleCommand = {
  description:
    "back up the data directory to a directory or S3, incrementally (the sync role on its own)",
  options: [
    ...targetOptions,
    {
      flags: "--deletes <policy>",
      description: "a file deleted from the data directory: keep (default) or mirror at the target",
    },
    {
      flags: "--exclude <glob>",
      description: "files never synced (repeatable), e.g. '*.tmp'",
      repeatable: true,
    },
    {
      flags: "--interval <seconds>",
      description: "sync at least this often (default 60; 0 = on changes and at stop only)",
    },
    { flags: "--once", description: "sync once and exit (a CronJob, a manual backup)" },
  ],
  examples: [
    "sidecar sync -c sidecar.yaml",
    "sidecar sync --data-dir /data --target /backup",
    "sidecar sync --data-dir /data --target s3://my-backups/my-app --once",
  ],
  overlay(flags, { configPath }) {
    const options = flags as SyncFlags;
    if (!configPath && (!options.dataDir || !options.target))
      throw new SidecarError(
        ErrorCodes.USAGE,
        "Nothing to sync: pass --data-dir and --target (or -c with a sync: section)",
      );
    return syncOverlay(options);
  },
  nothingToDo: "Nothing to sync: pass --data-dir and --target, or -c with a sync: section",
  subcommands: [
    {
      name: "restore",
      description: "restore the data directory from the target, then exit (an init container)",
      options: [
        ...targetOptions,
        { flags: "--force", description: "replace a data directory that is not empty" },
        { flags: "--if-exists", description: "exit 0, not 3, when the target holds no backup" },
        {
          flags: "--if-empty",
          description: "exit 0, not 4, when the data directory is not empty (nothing restored)",
        },
        {
          flags: "--at <time>",
          description:
            "the newest version at or before a date-time (2026-11-27T18:00:00Z) or an age ago (90m, 2h, 1d)",
        },
        { flags: "--version <n>", description: "this version number (see sidecar sync status)" },
        {
          flags: "--include-deleted",
          description: "also restore files kept at the target after they were deleted",
        },
      ],
      examples: [
        "sidecar sync restore -c sidecar.yaml --if-exists --if-empty",
        "sidecar sync restore -c sidecar.yaml --at 2h --force",
      ],
      action: restoreAction,
    },
    {
      name: "status",
      description: "what the target holds: versions, newest version's age, files and bytes",
      options: [...targetOptions, { flags: "--json", description: "print JSON" }],
      examples: ["sidecar sync status -c sidecar.yaml"],
      action: statusAction,
    },
  ],
};
