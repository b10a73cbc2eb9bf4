import { dirname } from "node:path";
import { fs } from "../../runtime/builtins.ts";

/** Creates `path` (and its parents) with `mode`, writes `data` and fsyncs it. */
export async function writeDurably(path: string, data: Buffer, mode: number): Promise<void> {
  await fs.promises.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const handle = await fs.promises.open(path, "w", mode);
  try {
    await handle.writeFile(data);
    // open()'s mode is masked by the umask; the configured mode is what the app should see.
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
