/**
 * Syscalls per request of the sidecar's proxy and of the nginx worker, by name: each process
 * (all its threads) is traced with `strace -f -c` while `hey` sends a fixed number of requests
 * (13 B, 50 connections). Counts, unlike CPU times, do not depend on the other jobs of a shared
 * machine. strace is a measuring tool only (`apt-get install strace`); the sidecar runs as the
 * bundle `npm run build` makes, with its command's V8 flags and environment.
 *
 *   npm run bench:proxy:syscalls                                  # 20 000 requests
 *   BENCH_REQUESTS=50000 BENCH_PATH=/64k node bench/proxy/syscalls.ts
 *   BENCH_BASELINE=/tmp/before/sidecar.js node bench/proxy/syscalls.ts   # a second bundle beside it
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import { children, nginxWorker, run, start, startAppSidecarNginx } from "./harness.ts";

const requests = Number(process.env.BENCH_REQUESTS ?? 20_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const path = process.env.BENCH_PATH ?? "/";
const baseline = process.env.BENCH_BASELINE;

/** `strace -c` of a process while `hey` sends `requests` to `url`: calls per request by name. */
async function countSyscalls(pid: number, url: string): Promise<Map<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-strace-"));
  const out = join(dir, "strace.txt");
  const strace = spawn("strace", ["-f", "-c", "-o", out, "-p", String(pid)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  strace.stderr.on("data", (c) => {
    err += c;
  });
  try {
    // strace reports each thread it attaches to; wait for the first before sending requests.
    for (let i = 0; i < 100 && !/attached/.test(err); i++)
      await new Promise((r) => setTimeout(r, 50));
    // hey opens its connections inside the count: 50 accepts and closes over 20 000 requests.
    await run("hey", ["-n", String(requests), "-c", String(connections), url], {
      timeout: 120_000,
    });
  } finally {
    const exited = new Promise((r) => strace.once("exit", r));
    strace.kill("SIGINT");
    await exited;
  }
  const text = await readFile(out, "utf8");
  await rm(dir, { recursive: true, force: true });
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m?.[2] && m[2] !== "total") counts.set(m[2], Number(m[1]) / requests);
  }
  return counts;
}

/** Page faults, context switches (all threads) and CPU ticks of a process so far. */
async function usage(pid: number) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  let switches = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const status = await readFile(`/proc/${pid}/task/${task}/status`, "utf8").catch(() => "");
    for (const m of status.matchAll(/ctxt_switches:\s+(\d+)/g)) switches += Number(m[1]);
  }
  return { minflt: Number(f[7]), switches, utime: Number(f[11]), stime: Number(f[12]) };
}

/** What a process spends per request outside strace's view, in an untraced run. */
async function untraced(pid: number, url: string): Promise<Map<string, number>> {
  const a = await usage(pid);
  await run("hey", ["-n", String(requests), "-c", String(connections), url], { timeout: 120_000 });
  const b = await usage(pid);
  return new Map([
    ["minor page faults", (b.minflt - a.minflt) / requests],
    ["context switches", (b.switches - a.switches) / requests],
    ["user µs (untraced, load-dependent)", ((b.utime - a.utime) * 10_000) / requests],
    ["system µs (untraced, load-dependent)", ((b.stime - a.stime) * 10_000) / requests],
  ]);
}

const { args, nodeFlags, env: sidecarEnv } = await sidecarCommand("proxy");
const dir = await mkdtemp(join(tmpdir(), "sidecar-syscalls-"));
try {
  const { sidecar, sidecarPort, nginx, nginxPort, appPort, app } = await startAppSidecarNginx(
    dir,
    args,
    { sidecarEnv },
  );
  const targets: [string, number, number][] = [
    ["sidecar", sidecar.pid!, sidecarPort],
    ["nginx worker", await nginxWorker(nginx.pid!), nginxPort],
    ["app (direct)", app.pid!, appPort],
  ];
  if (baseline) {
    const port = await freePort();
    const admin = await freePort();
    const config = join(dir, "baseline.yaml");
    await writeFile(
      config,
      (await readFile(join(dir, "sidecar.yaml"), "utf8"))
        .replace(/address: 127\.0\.0\.1:\d+\nlog/, `address: 127.0.0.1:${admin}\nlog`)
        .replace(`- address: 127.0.0.1:${sidecarPort}`, `- address: 127.0.0.1:${port}`),
    );
    const before = await start(
      process.execPath,
      [...nodeFlags, baseline, "proxy", "-c", config],
      undefined,
      port,
      sidecarEnv,
    );
    targets.unshift(["baseline", before.pid!, port]);
  }
  const results: [string, Map<string, number>][] = [];
  const others: Map<string, number>[] = [];
  for (const [name, pid, port] of targets) {
    const url = `http://127.0.0.1:${port}${path}`;
    // One unmeasured run first: JIT warm-up and the pools' connections.
    await run("hey", ["-n", "5000", "-c", String(connections), url]);
    results.push([name, await countSyscalls(pid, url)]);
    others.push(await untraced(pid, url));
  }
  const names = [...new Set(results.flatMap(([, m]) => [...m.keys()]))]
    .map((n) => [n, Math.max(...results.map(([, m]) => m.get(n) ?? 0))] as const)
    .filter(([, max]) => max >= Number(process.env.BENCH_MIN ?? 0.005))
    .sort((a, b) => b[1] - a[1])
    .map(([n]) => n);
  console.log(
    `syscalls per request, ${requests} requests of ${path}, hey -c ${connections} (strace -f -c)`,
  );
  console.log(`| syscall | ${results.map(([n]) => n).join(" | ")} |`);
  console.log(`| --- | ${results.map(() => "---:").join(" | ")} |`);
  for (const n of names)
    console.log(`| ${n} | ${results.map(([, m]) => (m.get(n) ?? 0).toFixed(2)).join(" | ")} |`);
  const totals = results.map(([, m]) => [...m.values()].reduce((a, b) => a + b, 0));
  console.log(`| **total** | ${totals.map((t) => `**${t.toFixed(2)}**`).join(" | ")} |`);
  for (const n of others[0]!.keys())
    console.log(`| ${n} | ${others.map((m) => m.get(n)!.toFixed(2)).join(" | ")} |`);
} finally {
  for (const child of children) child.kill();
  await rm(dir, { recursive: true, force: true });
}
