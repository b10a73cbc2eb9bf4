import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";

const dataDir = "..data";
const dataDirTmp = "..data_tmp";

/** `..2026_11_27_17_42_07.` — the prefix kubelet gives its timestamped directories. */
function timestampPrefix(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(
    now.getUTCHours(),
  )}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`;
}

/**
 * Publishes `files` (relative path → content) into `dir` the way kubelet's AtomicWriter updates
 * a mounted ConfigMap or Secret volume, step by step: a new timestamped directory holding every
 * file → the user-visible symlinks (`name` → `..data/name`) made where missing → a symlink
 * `..data_tmp` to the new directory → `rename(..data_tmp, ..data)` (the atomic switch) →
 * user-visible links of files no longer present removed → the old timestamped directory
 * removed. For tests of anything that watches such a volume.
 *
 * @example
 * await writeKubernetesVolume(dir, { "app.yaml": "a: 1\n" });
 * await writeKubernetesVolume(dir, { "app.yaml": "a: 2\n" }); // `dir/app.yaml` now reads "a: 2"
 */
export async function writeKubernetesVolume(
  dir: string,
  files: Record<string, string>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const oldTsDir = await readlink(join(dir, dataDir)).catch(() => undefined);
  const visible = (paths: Iterable<string>) => new Set([...paths].map((p) => p.split("/")[0]!));
  const oldVisible = oldTsDir ? visible(await listFiles(join(dir, oldTsDir))) : new Set<string>();
  const newVisible = visible(Object.keys(files));

  const tsPath = await mkdtemp(join(dir, timestampPrefix(new Date())));
  await chmod(tsPath, 0o755);
  for (const [name, content] of Object.entries(files)) {
    const file = join(tsPath, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content, { mode: 0o644 });
  }
  for (const name of newVisible) {
    const link = join(dir, name);
    if (!(await lstat(link).catch(() => undefined))) await symlink(join(dataDir, name), link);
  }
  await rm(join(dir, dataDirTmp), { force: true });
  await symlink(tsPath.slice(dir.length + 1), join(dir, dataDirTmp));
  await rename(join(dir, dataDirTmp), join(dir, dataDir));
  for (const name of oldVisible)
    if (!newVisible.has(name)) await rm(join(dir, name), { force: true });
  if (oldTsDir) await rm(join(dir, oldTsDir), { recursive: true, force: true });
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), name)));
    else out.push(name);
  }
  return out;
}
