/**
 * The first seconds of traffic after an idle spell, for variants of the sidecar's V8 flags:
 * each variant is a sidecar (the bundle, `sidecar proxy`'s flags plus the variant's) behind the
 * same app. Each round: 3 s of `hey -c 50 -q 100` (5000 req/s) through every sidecar, then 35 s
 * in which only the app is served (the same rate, directly), then per sidecar 5 s at the rate
 * ("after idle") and 5 s more ("steady"), with its RSS when busy and after the idle spell.
 * The sidecar's quiet memory release (runtime/quiet-memory-release.ts) waits 5 min, so 35 s idle
 * costs nothing now; `--no-expose-gc` is the variant without any release. Loopback only.
 *
 *   npm run build && node bench/proxy/idle-resume.ts
 *   BENCH_VARIANTS="|--no-expose-gc|--min-semi-space-size=8" BENCH_ROUNDS=3 node bench/proxy/idle-resume.ts
 *   BENCH_IDLE_SECONDS=320 BENCH_VARIANTS="|--no-expose-gc" node bench/proxy/idle-resume.ts   # past the release
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import { children, hey, rssMb, start, startSidecarProxy } from "./harness.ts";

const variants = (process.env.BENCH_VARIANTS ?? "|--no-expose-gc").split("|");
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 35);
const seconds = 5;

const { args, nodeFlags, env } = await sidecarCommand("proxy");
const bundle = args.slice(nodeFlags.length);
const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-idle-"));
try {
  const appPort = await freePort();
  await start(process.execPath, ["bench/proxy/app.js", String(appPort)], /ready/, appPort);
  const sidecars: { name: string; port: number; pid: number }[] = [];
  for (const [i, variant] of variants.entries()) {
    const flags = variant.split(" ").filter(Boolean);
    const { sidecar, sidecarPort } = await startSidecarProxy(
      dir,
      [...nodeFlags, ...flags, ...bundle],
      appPort,
      env,
      `sidecar-${i}`,
    );
    sidecars.push({ name: variant || "(as installed)", port: sidecarPort, pid: sidecar.pid! });
  }
  console.log(
    `hey -z ${seconds}s -c 50 -q 100 (5000 req/s, 13 B) after ${idleSeconds} s idle, then ${seconds} s more; ${rounds} rounds\n` +
      "  round  extra V8 flags              after idle p50 · p99 ms   steady p50 · p99 ms   RSS busy → idle MB",
  );
  for (let round = 1; round <= rounds; round++) {
    for (const { port } of sidecars) await hey(`http://127.0.0.1:${port}/`, 50, 100, 3);
    const busy = await Promise.all(sidecars.map(({ pid }) => rssMb(pid)));
    // Only the sidecars idle: the app keeps its rate (its own first seconds would count otherwise).
    await hey(`http://127.0.0.1:${appPort}/`, 50, 100, idleSeconds);
    const idle = await Promise.all(sidecars.map(({ pid }) => rssMb(pid)));
    for (const [i, { name, port }] of sidecars.entries()) {
      const after = await hey(`http://127.0.0.1:${port}/`, 50, 100, seconds);
      const steady = await hey(`http://127.0.0.1:${port}/`, 50, 100, seconds);
      console.log(
        `  ${String(round).padStart(5)}  ${name.padEnd(26)} ${`${after.p50.toFixed(1)} · ${after.p99.toFixed(1)}`.padStart(24)}   ${`${steady.p50.toFixed(1)} · ${steady.p99.toFixed(1)}`.padStart(19)}   ${busy[i]!.toFixed(1)} → ${idle[i]!.toFixed(1)}`,
      );
    }
  }
} finally {
  for (const child of children) child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
