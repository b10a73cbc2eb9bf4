import type { ManifestEntry } from "./manifest.ts";
import type { ScannedFile } from "./scan.ts";

/** What a sync has to do to bring the last version up to the data directory. */
export interface SyncPlan {
  /** Entries whose file is unchanged (same size and mtime): carried over as they are. */
  unchanged: ManifestEntry[];
  /** Files new or changed since the last version: to hash and, if the content is new, copy. */
  changed: ScannedFile[];
  /** Entries whose file is gone from the data directory. */
  deleted: ManifestEntry[];
}

/**
 * Compares a scan with the last version's entries, by size and mtime (what rclone does by
 * default). An entry kept after its file was deleted (`deletedAt`) counts as changed if the
 * file is back. `scannedIn`: which paths the scan looked at (a scan of what changed); the
 * entries of the others are unchanged. `copyAgain`: entries whose file, even unchanged, is to
 * be copied again (its content is in a pack being left).
 *
 * @example
 * const plan = diffScan(await scanDataDir(dir, filter), manifest?.files ?? []);
 */
export function diffScan(
  scanned: ReadonlyMap<string, ScannedFile>,
  previous: readonly ManifestEntry[],
  scannedIn: (path: string) => boolean = () => true,
  copyAgain: (entry: ManifestEntry) => boolean = () => false,
): SyncPlan {
  const plan: SyncPlan = { unchanged: [], changed: [], deleted: [] };
  const seen = new Set<string>();
  for (const entry of previous) {
    if (!scannedIn(entry.path)) {
      plan.unchanged.push(entry);
      continue;
    }
    seen.add(entry.path);
    const file = scanned.get(entry.path);
    if (!file) plan.deleted.push(entry);
    else if (
      !entry.deletedAt &&
      file.size === entry.size &&
      file.mtimeMs === entry.mtimeMs &&
      file.mode === entry.mode &&
      !copyAgain(entry)
    )
      plan.unchanged.push(entry);
    else plan.changed.push(file);
  }
  for (const file of scanned.values()) if (!seen.has(file.path)) plan.changed.push(file);
  return plan;
}
