import { basename, join } from "node:path";
import { fs } from "../../runtime/builtins.ts";

/**
 * The ids of the processes named `name`: by `/proc/PID/comm` (the kernel's name, at most 15
 * characters) or the base name of the command's first argument. In a Pod this sees the other
 * containers' processes only with `shareProcessNamespace: true`. Never the sidecar itself.
 */
export async function findProcesses(name: string, procRoot = "/proc"): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.promises.readdir(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const comm = (await fs.promises.readFile(join(procRoot, entry, "comm"), "utf8")).trim();
      const cmdline = await fs.promises.readFile(join(procRoot, entry, "cmdline"), "utf8");
      const argv0 = cmdline.split("\0")[0] ?? "";
      if (comm === name || (argv0 !== "" && basename(argv0) === name)) pids.push(pid);
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids;
}
