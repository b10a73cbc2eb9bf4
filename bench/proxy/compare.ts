/**
 * A/B of two sidecar bundles behind the same app, with nginx and the app itself (the bare
 * node:http floor) in the same run: `wrk -t1 -c50` against each in interleaved rounds, printing
 * req/s and the CPU µs/request (user + system) of each process per round. On a shared machine
 * only same-run figures compare; identical bundles differ by a few % between rounds.
 *
 *   git stash && npm run build && rm -rf /tmp/before && cp -R dist /tmp/before && git stash pop
 *   BENCH_BASELINE=/tmp/before/sidecar.js node bench/proxy/compare.ts   # with its chunks/ beside it
 *   BENCH_PATH=/64k BENCH_DURATION=4 BENCH_ROUNDS=3 BENCH_BASELINE=… node bench/proxy/compare.ts
 *   BENCH_BASELINE_NODE_FLAGS="--max-semi-space-size=4 --expose-gc" BENCH_BASELINE=dist/sidecar.js …   # flags A/B
 *   BENCH_BASELINE_ENV=SIDECAR_PROXY_REQUEST_SIDE=node BENCH_BASELINE=dist/sidecar.js …   # environment A/B
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import { children, nginxWorker, run, start, startAppSidecarNginx, wrk } from "./harness.ts";

const baseline = process.env.BENCH_BASELINE;
if (!baseline)
  throw new Error(
    "Set BENCH_BASELINE to the bundle to compare with (a copy of dist/: its sidecar.js)",
  );
const duration = Number(process.env.BENCH_DURATION ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const path = process.env.BENCH_PATH ?? "/";

/** utime and stime of a process in clock ticks (100 per second). */
async function ticks(pid: number): Promise<[number, number]> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[11]), Number(fields[12])];
}

const { args, nodeFlags, env: sidecarEnv } = await sidecarCommand("proxy");
// V8 flags for the baseline alone (default: the same as this tree's), to compare flags.
const baselineFlags =
  process.env.BENCH_BASELINE_NODE_FLAGS?.split(" ").filter(Boolean) ?? nodeFlags;
// NAME=value pairs for the baseline alone, to compare settings read from the environment.
const baselineEnv = Object.fromEntries(
  (process.env.BENCH_BASELINE_ENV?.split(" ").filter(Boolean) ?? []).map((pair) => {
    const eq = pair.indexOf("=");
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  }),
);
const dir = await mkdtemp(join(tmpdir(), "sidecar-compare-"));
try {
  const { app, appPort, sidecar, sidecarPort, nginx, nginxPort } = await startAppSidecarNginx(
    dir,
    args,
    { sidecarEnv },
  );
  const port = await freePort();
  const config = join(dir, "baseline.yaml");
  const own = await readFile(join(dir, "sidecar.yaml"), "utf8");
  const admin = await freePort();
  await writeFile(
    config,
    own
      .replace(/address: 127\.0\.0\.1:\d+\nlog/, `address: 127.0.0.1:${admin}\nlog`)
      .replace(`- address: 127.0.0.1:${sidecarPort}`, `- address: 127.0.0.1:${port}`),
  );
  const before = await start(
    process.execPath,
    [...baselineFlags, baseline, "proxy", "-c", config],
    undefined,
    port,
    { ...sidecarEnv, ...baselineEnv },
  );
  const targets = [
    ["direct (bare node:http)", appPort, app.pid!],
    ["baseline", port, before.pid!],
    ["this tree", sidecarPort, sidecar.pid!],
    ["nginx", nginxPort, await nginxWorker(nginx.pid!)],
  ] as const;
  for (const [, p] of targets)
    await run("wrk", ["-t1", "-c50", "-d2s", `http://127.0.0.1:${p}${path}`], { timeout: 30_000 });
  const rows = new Map<string, string[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++)
    for (const [name, p, pid] of targets) {
      const [u0, s0] = await ticks(pid);
      const r = await wrk(`http://127.0.0.1:${p}${path}`, pid, 50, duration);
      const [u1, s1] = await ticks(pid);
      const requests = r.rps * duration;
      const us = (t: number) => ((t * 10_000) / requests).toFixed(1);
      rows.get(name)!.push(`${r.rps.toFixed(0)} req/s ${us(u1 - u0)}u+${us(s1 - s0)}s µs`);
    }
  console.log(`wrk -t1 -c50 -d${duration}s ${path}, ${rounds} interleaved rounds; CPU µs/request`);
  for (const [name, cells] of rows) console.log(`  ${name.padEnd(24)} ${cells.join("   ")}`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
