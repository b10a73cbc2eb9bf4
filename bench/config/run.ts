/**
 * The config benchmark: time from a change at the source to the app being notified (an HTTP
 * POST reaching a stand-in app), p50 and p99 over a few hundred changes, for the sidecar's file
 * source (a ConfigMap-shaped directory updated with kubelet's `..data` swap), etcd source and
 * HTTP long-poll source, and for the usual hand-made reference: an `inotifywait` loop that copies
 * the files and curls the app. Each change waits for its notification before the next, so every
 * figure is one change's full path (detect → read → render → publish with fsync → notify).
 *
 *   npm run bench:config                          # 200 changes per contender
 *   BENCH_CONFIG_CHANGES=500 npm run bench:config
 *   BENCH_CONFIG_ONLY=sidecar-file,inotifywait npm run bench:config
 *
 * The sidecar runs as installed (the bundle, built in the same run) with `wait.minSeconds: 0`:
 * the quiescence wait (default 0.05 s) would add itself to every figure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubernetesVolume } from "../../src/runtime/files/kubernetes-volume.testing.ts";
import { freePort } from "../../src/runtime/testing.ts";
import { type EtcdServer, startEtcd } from "../../test/helpers/etcd-server.ts";
import { requireTool } from "../../test/helpers/require-tool.ts";
import { quantile } from "../quantile.ts";
import { sidecarCommand } from "../sidecar-command.ts";

const changes = Number(process.env.BENCH_CONFIG_CHANGES ?? 200);
const only = process.env.BENCH_CONFIG_ONLY?.split(",");
const { args: sidecarArgs, env: sidecarEnv } = await sidecarCommand("config");

/** The stand-in app: counts reload POSTs and wakes whoever waits for the next one. */
async function reloadReceiver() {
  let waiter: ((at: number) => void) | undefined;
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    const at = performance.now();
    res.end("ok");
    waiter?.(at);
    waiter = undefined;
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/-/reload`,
    next: (timeoutMs: number) =>
      new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        waiter = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      }),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

type Receiver = Awaited<ReturnType<typeof reloadReceiver>>;

/** A long-poll config server (Consul style): holds `?index=N` until the value changes. */
async function longPollServer() {
  let index = 1;
  let value = "0";
  const held = new Set<() => void>();
  const server = createServer((req, res) => {
    const asked = Number(new URL(req.url!, "http://x").searchParams.get("index"));
    const answer = () => {
      res.setHeader("x-consul-index", String(index));
      res.end(value);
    };
    if (asked === index) held.add(answer);
    else answer();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/kv/app.txt`,
    set(next: string) {
      index++;
      value = next;
      for (const answer of held) answer();
      held.clear();
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

interface Result {
  name: string;
  p50: number;
  p99: number;
  max: number;
  missed: number;
}

async function measure(
  name: string,
  receiver: Receiver,
  change: (i: number) => Promise<void>,
): Promise<Result> {
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 1; i <= changes; i++) {
    const notified = receiver.next(5000);
    const start = performance.now();
    await change(i);
    const at = await notified;
    if (at === undefined) missed++;
    else latencies.push(at - start);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  latencies.sort((a, b) => a - b);
  return {
    name,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    missed,
  };
}

async function startSidecar(dir: string, source: string, notifyUrl: string): Promise<ChildProcess> {
  const config = join(dir, "sidecar.yaml");
  await writeFile(
    config,
    `admin: { address: "127.0.0.1:${await freePort()}" }
log: { level: warn }
config:
  outputDir: ${join(dir, "out")}
  wait: { minSeconds: 0 }
  sources: [${source}]
  notify: [{ type: http, url: "${notifyUrl}" }]
`,
  );
  const child = spawn(process.execPath, [...sidecarArgs, "config", "-c", config], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...sidecarEnv, SIDECAR_LOG_LEVEL: "info" },
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk;
      if (out.includes("sidecar ready to serve")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`sidecar exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

const results: Result[] = [];
const want = (name: string) => !only || only.includes(name);
const receiver = await reloadReceiver();
const dir = await mkdtemp(join(tmpdir(), "bench-config-"));
let etcd: EtcdServer | undefined;
const children: ChildProcess[] = [];
try {
  if (want("inotifywait")) {
    const inotifywait = requireTool("inotifywait");
    const cm = join(dir, "ref-cm");
    const out = join(dir, "ref-out");
    await writeKubernetesVolume(cm, { "app.conf": "0" });
    // What people write by hand: on the `..data` swap, copy the files and curl the app.
    const script = `mkdir -p "$3"; "$4" -q -m -e create,moved_to --format %f "$1" | while read f; do
  [ "$f" = ..data ] || continue
  cp -L "$1"/app.conf "$3"/app.conf && curl -s -o /dev/null -X POST "$2"
done`;
    const child = spawn("sh", ["-c", script, "sh", cm, receiver.url, out, inotifywait], {
      stdio: "ignore",
      detached: true,
    });
    children.push(child);
    await new Promise((resolve) => setTimeout(resolve, 300));
    results.push(
      await measure("inotifywait + cp + curl", receiver, (i) =>
        writeKubernetesVolume(cm, { "app.conf": String(i) }),
      ),
    );
    process.kill(-child.pid!, "SIGTERM");
  }
  if (want("sidecar-file")) {
    const cm = join(dir, "cm");
    await writeKubernetesVolume(cm, { "app.conf": "0" });
    const child = await startSidecar(
      join(dir),
      `{ name: cm, type: file, path: ${cm} }`,
      receiver.url,
    );
    children.push(child);
    results.push(
      await measure("sidecar file (..data swap)", receiver, (i) =>
        writeKubernetesVolume(cm, { "app.conf": String(i) }),
      ),
    );
    await stop(child);
  }
  if (want("sidecar-etcd")) {
    etcd = await startEtcd();
    await etcd.client.put("/bench/app.conf").value("0");
    const sub = await mkdtemp(join(dir, "etcd-"));
    const child = await startSidecar(
      sub,
      `{ name: kv, type: etcd, endpoints: ["${etcd.endpoint}"], prefix: /bench/ }`,
      receiver.url,
    );
    children.push(child);
    const client = etcd.client;
    results.push(
      await measure("sidecar etcd (watch)", receiver, async (i) => {
        await client.put("/bench/app.conf").value(String(i));
      }),
    );
    await stop(child);
  }
  if (want("sidecar-http")) {
    const server = await longPollServer();
    const sub = await mkdtemp(join(dir, "http-"));
    const child = await startSidecar(
      sub,
      `{ name: web, type: http, url: "${server.url}", longPoll: { minIntervalSeconds: 0 } }`,
      receiver.url,
    );
    children.push(child);
    results.push(
      await measure("sidecar http (long-poll)", receiver, async (i) => server.set(String(i))),
    );
    await stop(child);
    server.close();
  }
} finally {
  for (const child of children) {
    try {
      if (child.pid) process.kill(child.spawnargs[0] === "sh" ? -child.pid : child.pid, "SIGKILL");
    } catch {}
  }
  await etcd?.close();
  receiver.close();
  await rm(dir, { recursive: true, force: true });
}

const reference = results.find((r) => r.name.startsWith("inotifywait"));
console.log(`\nchange → app notified, ${changes} changes each (ms)\n`);
console.log("contender                      p50      p99      max   missed   p99 vs reference");
for (const r of results) {
  const ratio = reference ? `${(r.p99 / reference.p99).toFixed(2)}×` : "";
  console.log(
    `${r.name.padEnd(28)} ${r.p50.toFixed(1).padStart(6)} ${r.p99.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)} ${String(r.missed).padStart(8)}   ${ratio}`,
  );
}
