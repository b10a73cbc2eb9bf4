/**
 * Proxy memory benchmark: RSS of a fresh `sidecar proxy` idle (before any request, and after
 * its first one: what the request path loads on use, node:crypto for request ids), holding 1000 open keep-alive
 * connections that have each made one request, and at its peak under `wrk -c1000`; measured in the
 * same run, the references: nginx's worker, and a bare node:http server answering by itself with
 * the sidecar's Node flags (the floor of any proxy running on Node). Loopback only; bounded
 * duration. Below the table, each of the sidecar's figures beside its target (issue 16): idle
 * ≤ 64 MB, 1000 open connections ≤ 1.15× the bare node:http server's in the same run, peak under
 * `wrk -c1000` ≤ 128 MB (MB as /proc reports them: MiB here, so the targets are in MiB too).
 *
 *   npm run bench:proxy:memory
 *   BENCH_CONNECTIONS=1000 BENCH_DURATION=10 npm run bench:proxy:memory
 *   BENCH_NODE_FLAGS="--max-semi-space-size=4" npm run bench:proxy:memory   # try V8 flags
 *   BENCH_HELD_SECONDS=305 npm run bench:proxy:memory  # connections held past the idle collection (5 min)
 */

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import { children, nginxWorker, start, startAppSidecarNginx, wrk } from "./harness.ts";

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 1000);
/** Seconds the connections are held before their RSS is read (the sidecar gives memory back after 5 min idle). */
const heldSeconds = Number(process.env.BENCH_HELD_SECONDS ?? 3);
const node = process.execPath;

async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** Opens `count` keep-alive connections, makes one request on each and keeps them open. */
async function holdIdleConnections(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, () => {
        const socket = connect(port, "127.0.0.1");
        sockets.push(socket);
        return new Promise<void>((resolve, reject) => {
          let received = "";
          socket.setEncoding("utf8");
          socket.once("error", reject);
          socket.once("connect", () => socket.write("GET / HTTP/1.1\r\nHost: bench\r\n\r\n"));
          socket.on("data", (chunk: string) => {
            received += chunk;
            if (received.endsWith("Hello, World!")) resolve();
          });
        });
      }),
    );
  }
  return sockets;
}

const { args: sidecarArgs, nodeFlags, env: sidecarEnv } = await sidecarCommand("proxy");
const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-memory-"));
try {
  const { sidecar, sidecarPort, nginx, nginxPort } = await startAppSidecarNginx(dir, sidecarArgs, {
    nginxKeepaliveTimeout: "300s",
    sidecarEnv,
  });
  const barePort = await freePort();
  const bare = await start(
    node,
    [...nodeFlags, "bench/proxy/app.js", String(barePort)],
    /ready/,
    barePort,
  );
  const targets = [
    ["sidecar", sidecarPort, sidecar.pid!],
    ["nginx", nginxPort, await nginxWorker(nginx.pid!)],
    ["bare node", barePort, bare.pid!],
  ] as const;

  console.log(
    `node flags: ${nodeFlags.join(" ") || "(none)"}; ${connections} connections, read after ${heldSeconds} s\n`,
  );
  console.log(
    "  target     idle MB   after 1 request MB   idle-conns MB   under-load peak MB   req/s (wrk)   CPU µs/req",
  );
  const figures = new Map<string, { idle: number; first: number; held: number; peak: number }>();
  for (const [name, port, pid] of targets) {
    await sleep(2000);
    const idle = await memory(pid);
    await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
    await sleep(1000);
    const first = await memory(pid);
    const sockets = await holdIdleConnections(port, connections);
    await sleep(heldSeconds * 1000);
    const held = await memory(pid);
    for (const socket of sockets) socket.destroy();
    await sleep(1000);
    const load = await wrk(`http://127.0.0.1:${port}/`, pid, connections, duration);
    const peak = await memory(pid);
    figures.set(name, { idle: idle.rss, first: first.rss, held: held.rss, peak: peak.peak });
    console.log(
      `  ${name.padEnd(9)} ${idle.rss.toFixed(1).padStart(8)}   ${first.rss.toFixed(1).padStart(18)}   ${held.rss.toFixed(1).padStart(13)}   ${peak.peak.toFixed(1).padStart(18)}   ${load.rps.toFixed(0).padStart(11)}   ${load.cpuUs.toFixed(1).padStart(10)}`,
    );
  }
  const ours = figures.get("sidecar")!;
  const floor = figures.get("bare node")!;
  const verdict = (met: boolean) => (met ? "met" : "NOT met");
  console.log(
    `\nsidecar against the targets:\n  idle ${ours.idle.toFixed(1)} MB (target ≤ 64: ${verdict(ours.idle <= 64)}; bare node ${floor.idle.toFixed(1)}); after its first request ${ours.first.toFixed(1)} MB (bare node ${floor.first.toFixed(1)})\n  ${connections} connections ${ours.held.toFixed(1)} MB = ${(ours.held / floor.held).toFixed(2)}× bare node's ${floor.held.toFixed(1)} (target ≤ 1.15×: ${verdict(ours.held <= 1.15 * floor.held)}; ${(((ours.held - ours.idle) * 1024) / connections).toFixed(1)} KB per connection, bare node ${(((floor.held - floor.idle) * 1024) / connections).toFixed(1)})\n  peak under wrk -c${connections} ${ours.peak.toFixed(1)} MB (target ≤ 128: ${verdict(ours.peak <= 128)}; bare node ${floor.peak.toFixed(1)})`,
  );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
