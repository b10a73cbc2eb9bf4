import { join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";
import type { HostPaths } from "../collector.ts";

export interface MountEntry {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string;
}

/** node_exporter's default exclusions: pseudo and container-storage mount points and types. */
export const defaultMountPointsExclude =
  "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
export const defaultFsTypesExclude =
  "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$";

/** `\040` (space), `\011` (tab), `\012` and `\134` as /proc/mounts escapes them. */
function unescapeMount(field: string): string {
  return field.replace(/\\(0[0-7]{2}|1[0-7]{2})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

/** A mount point as seen from the host: the rootfs prefix (`/host`) taken off. */
export function stripRootfs(paths: HostPaths, mountPoint: string): string {
  if (paths.rootfs === "/" || paths.rootfs === "") return mountPoint;
  const prefix = paths.rootfs.replace(/\/+$/, "");
  if (mountPoint !== prefix && !mountPoint.startsWith(`${prefix}/`)) return mountPoint;
  return mountPoint.slice(prefix.length) || "/";
}

export function parseMounts(text: string, paths: HostPaths): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 4) {
      if (line.trim()) throw new Error(`malformed mount line "${line}"`);
      continue;
    }
    mounts.push({
      device: unescapeMount(parts[0]!),
      mountPoint: stripRootfs(paths, unescapeMount(parts[1]!)),
      fsType: parts[2]!,
      options: parts[3]!,
    });
  }
  return mounts;
}

/**
 * The host's mounts: PID 1's (the host's when the pod has hostPID), else the reader's own
 * when /proc/1 is hidden (hidepid).
 */
export async function readMounts(paths: HostPaths): Promise<MountEntry[]> {
  let text: string;
  try {
    text = await fs.promises.readFile(join(paths.procfs, "1", "mounts"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    text = await fs.promises.readFile(join(paths.procfs, "mounts"), "utf8");
  }
  return parseMounts(text, paths);
}
