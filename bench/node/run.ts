/**
 * The node benchmark, in one run on this machine:
 *
 * 1. Node metrics: `sidecar node` and Debian's `prometheus-node-exporter`, started side by side
 *    with the same collectors (node_exporter's other default ones disabled), each scraped BENCH_NODE_SCRAPES times (default 200) one
 *    after the other. Prints scrape time (median, p90), CPU per scrape (user + system of the
 *    exporter's process over the scrapes) and RSS of both, with the ratio sidecar / node_exporter
 *    (target ≤ 1.0).
 * 2. Node logs: BENCH_NODE_FILES (500) pod log files in a /var/log/pods-like tree, half written
 *    before the start and half appended to all files at once while `sidecar node` tails them and
 *    ships to an HTTP NDJSON receiver. Prints lines/s, CPU, checkpoint writes and peak RSS, with
 *    checkpoints bounded in rate (the default checkpointIntervalMs) and, in the same run, written
 *    after every acknowledged batch (checkpointIntervalMs 0), and the ratio of the two.
 * 3. Idle: the same 500 files, all read, none growing: CPU of `sidecar node` over
 *    BENCH_NODE_IDLE_SECONDS (10), as a share of one core. Then churn: 100 new Pods appear and
 *    100 files rotate, one of each every 50 ms: CPU until their lines are delivered.
 *
 *   BENCH_NODE_PARTS=logs,idle npm run bench:node   (the parts to run: metrics, logs, idle)
 *   npm run bench:node
 *   BENCH_NODE_SCRAPES=1000 BENCH_NODE_LINES=4000 npm run bench:node
 *
 * The sidecar runs as installed: the bundle, built in the same run, under the V8 flags of the
 * `sidecar node` command.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/runtime/testing.ts";
import { httpNdjsonReceiver } from "../logs/receivers.ts";
import { sidecarCommand } from "../sidecar-command.ts";

const scrapes = Number(process.env.BENCH_NODE_SCRAPES ?? 200);
const files = Number(process.env.BENCH_NODE_FILES ?? 500);
const linesPerFile = Number(process.env.BENCH_NODE_LINES ?? 1000);
const idleSeconds = Number(process.env.BENCH_NODE_IDLE_SECONDS ?? 10);
const parts = new Set((process.env.BENCH_NODE_PARTS ?? "metrics,logs,idle").split(","));
const { args: sidecarArgs, env: sidecarEnv } = await sidecarCommand("node");

async function procStatus(pid: number, field: string): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  return kb ? Number(kb) / 1024 : undefined;
}

/** User + system CPU seconds of a process (fields 14 and 15 of /proc/PID/stat, 1/100 s ticks). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function waitForMetrics(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answered on port ${port}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
}

interface ScrapeResult {
  name: string;
  medianMs: number;
  p90Ms: number;
  cpuMsPerScrape: number;
  rssMiB: number | undefined;
  bytes: number;
}

async function measureScrapes(
  name: string,
  child: ChildProcess,
  port: number,
): Promise<ScrapeResult> {
  const url = `http://127.0.0.1:${port}/metrics`;
  for (let i = 0; i < 10; i++) await (await fetch(url)).text(); // warm-up
  const times: number[] = [];
  let bytes = 0;
  const cpuBefore = await cpuSeconds(child.pid!);
  for (let i = 0; i < scrapes; i++) {
    const start = performance.now();
    const body = await (await fetch(url)).text();
    times.push(performance.now() - start);
    bytes = body.length;
  }
  const cpuAfter = await cpuSeconds(child.pid!);
  times.sort((a, b) => a - b);
  return {
    name,
    medianMs: times[Math.floor(times.length / 2)]!,
    p90Ms: times[Math.floor(times.length * 0.9)]!,
    cpuMsPerScrape: ((cpuAfter - cpuBefore) * 1000) / scrapes,
    rssMiB: await procStatus(child.pid!, "VmRSS"),
    bytes,
  };
}

async function nodeMetrics(): Promise<void> {
  const [ourPort, theirPort] = [await freePort(), await freePort()];
  const sidecar = spawn(
    process.execPath,
    [...sidecarArgs, "node", "--admin-address", `127.0.0.1:${ourPort}`],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...sidecarEnv, SIDECAR_LOG_LEVEL: "warn" },
    },
  );
  const exporter = spawn(
    "prometheus-node-exporter",
    [`--web.listen-address=127.0.0.1:${theirPort}`],
    {
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  try {
    await Promise.all([waitForMetrics(ourPort), waitForMetrics(theirPort)]);
    const ours = await measureScrapes("sidecar node", sidecar, ourPort);
    const theirs = await measureScrapes("prometheus-node-exporter", exporter, theirPort);
    console.log(`\nnode metrics: ${scrapes} scrapes each, one at a time`);
    for (const r of [ours, theirs])
      console.log(
        `  ${r.name.padEnd(26)} median ${r.medianMs.toFixed(2)} ms  p90 ${r.p90Ms.toFixed(2)} ms  CPU ${r.cpuMsPerScrape.toFixed(2)} ms/scrape  RSS ${r.rssMiB?.toFixed(0)} MiB  (${(r.bytes / 1024).toFixed(0)} KiB)`,
      );
    console.log(
      `  ratio sidecar / node_exporter: scrape time ${(ours.medianMs / theirs.medianMs).toFixed(2)}, CPU per scrape ${(ours.cpuMsPerScrape / theirs.cpuMsPerScrape).toFixed(2)}, RSS ${((ours.rssMiB ?? 0) / (theirs.rssMiB ?? 1)).toFixed(2)}  (target ≤ 1.0)`,
    );
  } finally {
    await Promise.all([stop(sidecar), stop(exporter)]);
  }
}

function criLines(file: number, from: number, count: number): string {
  let out = "";
  for (let i = from; i < from + count; i++)
    out += `2026-11-27T10:00:00.${String(i).padStart(9, "0")}Z stdout F pod ${file} line ${i} ${"x".repeat(40)}\n`;
  return out;
}

interface LogsResult {
  linesPerSecond: number;
  cpuSeconds: number;
  checkpointWrites: number;
  idleCoreShare?: number;
}

async function metricValue(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

async function nodeLogs(
  checkpointIntervalMs: number | undefined,
  idle: boolean,
): Promise<LogsResult> {
  const root = await mkdtemp(join(tmpdir(), "bench-node-logs-"));
  const receiver = await httpNdjsonReceiver();
  const adminPort = await freePort();
  const dirs = Array.from({ length: files }, (_, i) =>
    join(root, "pods", `ns${i % 20}_pod-${i}_uid-${i}`, "app"),
  );
  const half = Math.floor(linesPerFile / 2);
  for (const [i, dir] of dirs.entries()) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "0.log"), criLines(i, 0, half));
  }
  const config = join(root, "sidecar.yaml");
  await writeFile(
    config,
    `node:\n  collectors: { disableDefaults: true }\n  logs:\n    stateDir: ${join(root, "state")}\n    sources: [{ type: file, include: ["${join(root, "pods/*/*/*.log")}"], parser: { type: cri }${checkpointIntervalMs === undefined ? "" : `, checkpointIntervalMs: ${checkpointIntervalMs}`} }]\n    sinks: [{ type: http, url: "http://127.0.0.1:${receiver.port}/" }]\n`,
  );
  const total = files * linesPerFile;
  const started = performance.now();
  const sidecar = spawn(
    process.execPath,
    [...sidecarArgs, "node", "-c", config, "--admin-address", `127.0.0.1:${adminPort}`],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...sidecarEnv, SIDECAR_LOG_LEVEL: "warn", NODE_NAME: "bench" },
    },
  );
  let peak = 0;
  const sampler = setInterval(async () => {
    peak = Math.max(peak, (await procStatus(sidecar.pid!, "VmRSS")) ?? 0);
  }, 200);
  try {
    // The other half appended to every file at once, in ten rounds.
    const rounds = 10;
    const perRound = Math.ceil((linesPerFile - half) / rounds);
    for (let r = 0; r < rounds; r++) {
      const from = half + r * perRound;
      const count = Math.min(perRound, linesPerFile - from);
      if (count <= 0) break;
      await Promise.all(
        dirs.map((dir, i) => appendFile(join(dir, "0.log"), criLines(i, from, count))),
      );
    }
    const complete = await receiver.waitFor(total, 300_000);
    const seconds = (performance.now() - started) / 1000;
    const cpu = await cpuSeconds(sidecar.pid!);
    const hwm = await procStatus(sidecar.pid!, "VmHWM");
    await waitForMetrics(adminPort);
    const writes = await metricValue(adminPort, "sidecar_logs_checkpoint_writes_total");
    const label =
      checkpointIntervalMs === undefined
        ? "default checkpointIntervalMs"
        : `checkpointIntervalMs ${checkpointIntervalMs}`;
    console.log(
      `\nnode logs (${label}): ${files} files, ${total} lines (${complete ? "all delivered" : `only ${receiver.count}`})`,
    );
    console.log(
      `  sidecar node  ${(receiver.count / seconds).toFixed(0)} lines/s over ${seconds.toFixed(1)} s (start-up included)  CPU ${cpu.toFixed(2)} s  ${writes} checkpoint writes  peak RSS ${(hwm ?? peak).toFixed(0)} MiB`,
    );
    const result: LogsResult = {
      linesPerSecond: receiver.count / seconds,
      cpuSeconds: cpu,
      checkpointWrites: writes,
    };
    if (idle) {
      // Let the last checkpoint writes and released reads settle, then measure doing nothing.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const before = await cpuSeconds(sidecar.pid!);
      const idleStarted = performance.now();
      await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
      const share = (await cpuSeconds(sidecar.pid!)) - before;
      result.idleCoreShare = share / ((performance.now() - idleStarted) / 1000);
      console.log(
        `  idle, ${files} files open: ${(result.idleCoreShare * 100).toFixed(1)} % of a core over ${idleSeconds} s`,
      );
      const churnBefore = await cpuSeconds(sidecar.pid!);
      const churnStarted = performance.now();
      const churn = Math.min(100, files);
      for (let i = 0; i < churn; i++) {
        const dir = join(root, "pods", `new_pod-${i}_uid-new-${i}`, "app");
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, "0.log"), criLines(files + i, 0, 1));
        await rename(join(dirs[i]!, "0.log"), join(dirs[i]!, "0.log.20261127-100000"));
        await writeFile(join(dirs[i]!, "0.log"), criLines(i, linesPerFile, 1));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const churned = await receiver.waitFor(total + 2 * churn, 60_000);
      console.log(
        `  churn, ${churn} Pods new and ${churn} files rotated in ${((performance.now() - churnStarted) / 1000).toFixed(1)} s: CPU ${((await cpuSeconds(sidecar.pid!)) - churnBefore).toFixed(2)} s (${churned ? "all delivered" : `only ${receiver.count - total} of ${2 * churn}`})`,
      );
    }
    return result;
  } finally {
    clearInterval(sampler);
    await stop(sidecar);
    await receiver.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (parts.has("metrics")) await nodeMetrics();
if (parts.has("logs")) {
  const perBatch = await nodeLogs(0, false);
  const bounded = await nodeLogs(undefined, parts.has("idle"));
  console.log(
    `  ratio bounded / per-batch checkpoints: lines/s ${(bounded.linesPerSecond / perBatch.linesPerSecond).toFixed(2)}, CPU ${(bounded.cpuSeconds / perBatch.cpuSeconds).toFixed(2)}, checkpoint writes ${(bounded.checkpointWrites / perBatch.checkpointWrites).toFixed(3)}`,
  );
} else if (parts.has("idle")) await nodeLogs(undefined, true);
