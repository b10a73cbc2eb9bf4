import type { StatsFs } from "node:fs";
import { join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";
import { defineCollector, FamilyBuilder } from "../collector.ts";
import { readMounts } from "./mounts.ts";

export { defaultFsTypesExclude, defaultMountPointsExclude } from "./mounts.ts";

type Stat = { ok: true; stats: StatsFs } | { ok: false };

/**
 * node_filesystem_* from statfs(2) of every mount point in /proc/1/mounts but the excluded
 * ones. A statfs that does not answer within the mount timeout (a hung NFS server) marks the
 * mount stuck: it is reported with device_error 1 and not asked again until that call returns.
 */
export const filesystemCollector = defineCollector({
  name: "filesystem",
  defaultEnabled: true,
  create: ({ paths, options }) => {
    const { mountPointsExclude, fsTypesExclude, mountTimeoutSeconds } = options.filesystem;
    const mountPointPattern = new RegExp(mountPointsExclude);
    const fsTypePattern = new RegExp(fsTypesExclude);
    const stuck = new Set<string>();

    function statfs(mountPoint: string): Promise<Stat> {
      if (stuck.has(mountPoint)) return Promise.resolve({ ok: false });
      const call = fs.promises.statfs(join(paths.rootfs, mountPoint)).then(
        (stats): Stat => ({ ok: true, stats }),
        (): Stat => ({ ok: false }),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<Stat>((resolve) => {
        timer = setTimeout(() => {
          stuck.add(mountPoint);
          void call.finally(() => stuck.delete(mountPoint));
          resolve({ ok: false });
        }, mountTimeoutSeconds * 1000);
        timer.unref();
      });
      return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
    }

    return {
      async collect() {
        const families = {
          size: new FamilyBuilder(
            "node_filesystem_size_bytes",
            "gauge",
            "Filesystem size in bytes.",
          ),
          free: new FamilyBuilder(
            "node_filesystem_free_bytes",
            "gauge",
            "Filesystem free space in bytes.",
          ),
          avail: new FamilyBuilder(
            "node_filesystem_avail_bytes",
            "gauge",
            "Filesystem space available to non-root users in bytes.",
          ),
          files: new FamilyBuilder(
            "node_filesystem_files",
            "gauge",
            "Filesystem total file nodes.",
          ),
          filesFree: new FamilyBuilder(
            "node_filesystem_files_free",
            "gauge",
            "Filesystem total free file nodes.",
          ),
          readonly: new FamilyBuilder(
            "node_filesystem_readonly",
            "gauge",
            "Filesystem read-only status.",
          ),
          deviceError: new FamilyBuilder(
            "node_filesystem_device_error",
            "gauge",
            "Whether an error occurred while getting statistics for the given device.",
          ),
        };
        const seen = new Set<string>();
        const mounts = (await readMounts(paths)).filter((mount) => {
          if (mountPointPattern.test(mount.mountPoint) || fsTypePattern.test(mount.fsType))
            return false;
          const key = `${mount.device}\0${mount.mountPoint}\0${mount.fsType}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        const stats = await Promise.all(mounts.map((mount) => statfs(mount.mountPoint)));
        mounts.forEach((mount, i) => {
          const labels = {
            device: mount.device,
            fstype: mount.fsType,
            mountpoint: mount.mountPoint,
          };
          const stat = stats[i]!;
          families.deviceError.add(labels, stat.ok ? 0 : 1);
          if (!stat.ok) return;
          const { bsize, blocks, bfree, bavail, files, ffree } = stat.stats;
          families.size.add(labels, blocks * bsize);
          families.free.add(labels, bfree * bsize);
          families.avail.add(labels, bavail * bsize);
          families.files.add(labels, files);
          families.filesFree.add(labels, ffree);
          families.readonly.add(labels, mount.options.split(",").includes("ro") ? 1 : 0);
        });
        return Object.values(families).map((builder) => builder.family);
      },
    };
  },
});
