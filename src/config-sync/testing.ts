import { join } from "node:path";
import { fs } from "../runtime/builtins.ts";

let counter = 0;

/**
 * Updates `dir` the way kubelet updates a mounted ConfigMap: a new timestamped directory,
 * `..data_tmp` → rename over `..data`, user-visible links `key → ..data/key`, old directory
 * removed. (Replaced by the runtime's writeKubernetesVolume once it lands.)
 */
export async function writeConfigMapVolume(
  dir: string,
  files: Record<string, string>,
): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  let old: string | undefined;
  try {
    old = await fs.promises.readlink(join(dir, "..data"));
  } catch {}
  const name = `..2026_01_01_00_00_00.${process.pid}${++counter}`;
  await fs.promises.mkdir(join(dir, name));
  for (const [key, value] of Object.entries(files))
    await fs.promises.writeFile(join(dir, name, key), value);
  await fs.promises.symlink(name, join(dir, "..data_tmp"));
  await fs.promises.rename(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const key of Object.keys(files)) {
    await fs.promises.symlink(join("..data", key), join(dir, key)).catch(() => {});
  }
  for (const entry of await fs.promises.readdir(dir)) {
    if (entry.startsWith("..")) continue;
    if (!(entry in files)) await fs.promises.rm(join(dir, entry), { force: true });
  }
  if (old) await fs.promises.rm(join(dir, old), { recursive: true, force: true });
}
