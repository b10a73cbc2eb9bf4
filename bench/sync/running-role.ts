/**
 * A 1 % change synced by a running `sidecar sync`, as the role runs in a Pod: started once,
 * watching the data directory, each change synced by a pass of the running process (its
 * manifest in memory, its code loaded). Timed from the pass's own log line (start of the pass
 * to the new version published: the debounce before it is a quiet time the user sets, not work);
 * CPU seconds of the process from the first change written to the pass's end (its watch
 * included); peak RSS at the end.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";

export interface RunningPasses {
  /** Median pass, in seconds. */
  seconds: number;
  /** Median CPU seconds per change. */
  cpuSeconds: number;
  peakRssMiB: number;
  /** Every pass, in seconds. */
  passes: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Starts `command` (a `sidecar sync -c <config>` whose log level is debug), waits for its first
 * pass, then `rounds` times: `settle()`, `change(round)`, and the pass that follows.
 */
export async function runningPasses(
  command: string[],
  env: NodeJS.ProcessEnv,
  rounds: number,
  change: (round: number) => Promise<void>,
  settle: () => Promise<void>,
): Promise<RunningPasses> {
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`sidecar sync exited (${code})`))),
  );
  const passDone: ((durationSeconds: number) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let record: { durationSeconds?: number };
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof record.durationSeconds === "number") passDone.shift()?.(record.durationSeconds);
  });
  const nextPass = () =>
    Promise.race([
      new Promise<number>((resolve) => passDone.push(resolve)),
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("no sync pass within 60 s")), 60_000).unref(),
      ),
    ]);
  try {
    await nextPass();
    const passes: number[] = [];
    const cpu: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      await settle();
      const pass = nextPass();
      const before = await cpuSeconds(child.pid!);
      await change(round);
      passes.push(await pass);
      cpu.push((await cpuSeconds(child.pid!)) - before);
    }
    const status = await readFile(`/proc/${child.pid}/status`, "utf8");
    const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return { seconds: median(passes), cpuSeconds: median(cpu), peakRssMiB: peakKiB / 1024, passes };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}
