/**
 * Proxy benchmark: wrk against the app directly, through `sidecar proxy`, through nginx
 * (1 worker, keepalive upstream) and through @fastify/http-proxy, for a 13-byte and a 64 KiB
 * response; prints req/s, p50, p99, the ratios sidecar/nginx and sidecar/fastify, and the
 * sidecar's peak RSS (`bench/proxy/memory.ts` measures memory with 1000 connections). Loopback
 * only; bounded duration.
 *
 *   npm run bench:proxy                          # 10 s per run, best of 3
 *   BENCH_DURATION=3 BENCH_ROUNDS=1 BENCH_CONNECTIONS=50 npm run bench:proxy
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import {
  children,
  nginxWorker,
  peakRssMb,
  type Result,
  run,
  start,
  startAppSidecarNginx,
  wrk,
} from "./harness.ts";

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Targets are run interleaved this many times; the best run of each counts (shared machines are noisy). */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const node = process.execPath;

// The sidecar runs as installed: the bundle, under the V8 flags of `sidecar proxy` (type stripping the
// sources would cost ~30 MB RSS).
const sidecarArgs = (await sidecarCommand("proxy")).args;
const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-"));
try {
  const { app, appPort, sidecar, sidecarPort, nginx, nginxPort } = await startAppSidecarNginx(
    dir,
    sidecarArgs,
  );
  const fastifyPort = await freePort();
  const fastify = await start(
    node,
    ["bench/proxy/fastify-proxy.ts", String(fastifyPort), String(appPort)],
    /ready/,
    fastifyPort,
  );

  const targets = [
    ["direct", appPort, app.pid!],
    ["sidecar", sidecarPort, sidecar.pid!],
    ["nginx", nginxPort, await nginxWorker(nginx.pid!)],
    ["fastify", fastifyPort, fastify.pid!],
  ] as const;
  // Warm up every target (JIT, pools) before anything is measured.
  for (const [, port] of targets)
    await run("wrk", ["-t1", `-c${connections}`, "-d2s", `http://127.0.0.1:${port}/`], {
      timeout: 30_000,
    });
  console.log(
    `wrk -t1 -c${connections} -d${duration}s per run, best of ${rounds} interleaved runs, loopback\n`,
  );
  for (const [label, path] of [
    ["13 B", "/"],
    ["64 KiB", "/64k"],
  ] as const) {
    const results = new Map<string, Result>();
    for (let round = 0; round < rounds; round++) {
      for (const [name, port, pid] of targets) {
        const result = await wrk(`http://127.0.0.1:${port}${path}`, pid, connections, duration);
        if ((results.get(name)?.rps ?? -1) < result.rps) results.set(name, result);
      }
    }
    console.log(`response ${label}`);
    console.log(
      "  target     req/s      p50        p99       ×direct   CPU µs/req (proxy process)",
    );
    const direct = results.get("direct")!.rps;
    for (const [name, r] of results)
      console.log(
        `  ${name.padEnd(9)} ${r.rps.toFixed(0).padStart(8)}  ${r.p50.padStart(9)}  ${r.p99.padStart(9)}   ${(r.rps / direct).toFixed(2)}      ${r.cpuUs.toFixed(1)}`,
      );
    const s = results.get("sidecar")!;
    const nginxResult = results.get("nginx")!;
    const fastifyResult = results.get("fastify")!;
    console.log(
      `  req/s: sidecar/nginx = ${(s.rps / nginxResult.rps).toFixed(2)}   sidecar/fastify = ${(s.rps / fastifyResult.rps).toFixed(2)}`,
    );
    // On a shared machine CPU per request is steadier than req/s: nginx CPU ÷ sidecar CPU.
    console.log(
      `  CPU efficiency: sidecar vs nginx = ${(nginxResult.cpuUs / s.cpuUs).toFixed(2)}   sidecar vs fastify = ${(fastifyResult.cpuUs / s.cpuUs).toFixed(2)}\n`,
    );
  }
  console.log(`sidecar peak RSS: ${(await peakRssMb(sidecar.pid!)).toFixed(1)} MB`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
