/**
 * Where a burst's requests wait: the sidecar and the featureless net proxy
 * (bench/proxy/net-proxy.js) under `hey -c 50 -q 100` (50 requests at once every 10 ms), each
 * with bench/proxy/burst-trace-preload.js time-stamping its socket reads and writes and V8's
 * collections. Prints, per burst (from its first request read): when the last request was read
 * and forwarded, when the first and the last response were written (p50 and p90 over the
 * bursts), the collections' pauses, and each process's own latency per request (request read →
 * response written). The preload costs a little per event; compare the two rows, not the
 * absolute figures with bench/proxy/run.ts. Loopback only; bounded duration.
 *
 *   npm run build && node bench/proxy/burst-trace.ts
 *   BENCH_RATE_DURATION=6 BENCH_NODE_FLAGS="--max-semi-space-size=8 --expose-gc" node bench/proxy/burst-trace.ts
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../src/runtime/testing.ts";
import { quantile } from "../quantile.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import { children, hey, start, startSidecarProxy } from "./harness.ts";

const seconds = Number(process.env.BENCH_RATE_DURATION ?? 4);
const node = process.execPath;
const preload = new URL("./burst-trace-preload.js", import.meta.url).pathname;

interface Event {
  at: number;
  kind: string;
  socket: number;
}

const fixed = (ms: number) => ms.toFixed(2);
const ascending = (values: number[]) => values.sort((a, b) => a - b);

function report(name: string, text: string): void {
  const events: Event[] = [];
  const pauses: { at: number; us: number; kind: number }[] = [];
  for (const line of text.trim().split("\n")) {
    const [at, kind, a, b] = line.split(" ");
    if (kind === "G") pauses.push({ at: Number(at), us: Number(a), kind: Number(b) });
    else events.push({ at: Number(at), kind: kind!, socket: Number(a) });
  }
  // A burst starts at a client read that follows 4 ms without one (hey ticks every 10 ms).
  const bursts: Event[][] = [];
  let lastRead = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    if (event.kind === "R" && event.at - lastRead > 4) bursts.push([]);
    if (event.kind === "R") lastRead = event.at;
    bursts.at(-1)?.push(event);
  }
  const columns = {
    lastRead: [] as number[],
    firstWrite: [] as number[],
    lastWrite: [] as number[],
  };
  for (const burst of bursts.slice(5, -5)) {
    const start = burst[0]!.at;
    const of = (kind: string) => burst.filter((e) => e.kind === kind).map((e) => e.at - start);
    const [reads, writes] = [of("R"), of("W")];
    if (writes.length === 0) continue;
    columns.lastRead.push(reads.at(-1)!);
    columns.firstWrite.push(writes[0]!);
    columns.lastWrite.push(writes.at(-1)!);
  }
  const pending = new Map<number, number>();
  const latency: number[] = [];
  for (const event of events)
    if (event.kind === "R") pending.set(event.socket, event.at);
    else if (event.kind === "W" && pending.has(event.socket)) {
      latency.push(event.at - pending.get(event.socket)!);
      pending.delete(event.socket);
    }
  const scavenges = ascending(pauses.filter((p) => p.kind === 1).map((p) => p.us / 1000));
  const others = ascending(pauses.filter((p) => p.kind !== 1).map((p) => p.us / 1000));
  for (const column of Object.values(columns)) ascending(column);
  ascending(latency);
  const pair = (sorted: number[]) =>
    `${fixed(quantile(sorted, 0.5))} · ${fixed(quantile(sorted, 0.9))}`;
  console.log(
    `  ${name.padEnd(10)} ${String(bursts.length).padStart(6)}   ${pair(columns.lastRead).padStart(11)}   ${pair(columns.firstWrite).padStart(11)}   ${pair(columns.lastWrite).padStart(11)}   ${`${scavenges.length}: ${pair(scavenges)} · max ${fixed(scavenges.at(-1) ?? 0)}`.padStart(24)}   ${`${others.length}, max ${fixed(others.at(-1) ?? 0)}`.padStart(10)}   ${fixed(quantile(latency, 0.5))} · ${fixed(quantile(latency, 0.99))}`,
  );
}

const { args, env } = await sidecarCommand("proxy");
const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-burst-"));
try {
  const appPort = await freePort();
  await start(node, ["bench/proxy/app.js", String(appPort)], /ready/, appPort);
  const sidecarOut = join(dir, "sidecar.trace");
  const netOut = join(dir, "net.trace");
  const { sidecar, sidecarPort } = await startSidecarProxy(
    dir,
    ["--import", preload, ...args],
    appPort,
    { ...env, BURST_TRACE_OUT: sidecarOut },
  );
  const netPort = await freePort();
  const netProxy = await start(
    node,
    ["--import", preload, "bench/proxy/net-proxy.js", String(netPort), String(appPort)],
    /ready/,
    netPort,
    { BURST_TRACE_OUT: netOut },
  );
  console.log(
    `hey -z ${seconds}s -c 50 -q 100 (5000 req/s, 13 B) after 2 s of warm-up, traced in the process; ms from a burst's first read, p50 · p90 over the bursts\n` +
      "  target     bursts   last read     first write   last write    scavenges, pause ms          others      own latency p50 · p99",
  );
  for (const [name, port, child, out] of [
    ["sidecar", sidecarPort, sidecar, sidecarOut],
    ["net proxy", netPort, netProxy, netOut],
  ] as const) {
    await hey(`http://127.0.0.1:${port}/`, 50, 100, 2);
    child.kill("SIGWINCH");
    await hey(`http://127.0.0.1:${port}/`, 50, 100, seconds);
    child.kill("SIGUSR2");
    let text = "";
    for (let tries = 0; tries < 50 && text === ""; tries++) {
      await sleep(200);
      text = await readFile(out, "utf8").catch(() => "");
    }
    report(name, text);
  }
} finally {
  for (const child of children) child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
