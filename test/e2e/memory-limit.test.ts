/**
 * A real memory limit: the sidecar image runs with `podman run --memory 128m` (no swap) and
 * both roles under load at once — the logs role ships a file of 300,000 lines to an HTTP
 * receiver that counts them, and the proxy carries 1000 concurrent keep-alive connections to
 * an app. The container must not be OOM-killed, every line must arrive, every request must be
 * answered, and the memory the sidecar held (and the cgroup's peak, where the kernel keeps
 * it) must stay under the limit. The container shares
 * the host's network namespace, so the receiver, the app and the sidecar all listen on
 * 127.0.0.1. Needs podman, runc and catatonit (bash scripts/install-system-deps.sh).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort, until } from "../../src/runtime/testing.ts";
import { buildTestImages, podman, type TestImages } from "../helpers/podman.ts";

const MiB = 2 ** 20;
const limitBytes = 128 * MiB;
const limit = "128m";
const lineCount = 300_000;
const connections = 1000;
const rounds = 3;

let images: TestImages;
let dir = "";
const containers: string[] = [];
const servers: Server[] = [];

before(async () => {
  images = await buildTestImages();
  dir = await mkdtemp(join(tmpdir(), "sidecar-memory-"));
});

after(async () => {
  for (const name of containers) await podman(["rm", "-f", "-t", "0", name]).catch(() => {});
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/** An NDJSON receiver that marks every line number it gets (duplicates count once). */
async function lineReceiver(): Promise<{ port: number; distinct: () => number }> {
  const seen = new Uint8Array(lineCount);
  let distinct = 0;
  const port = await listen(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        for (const line of Buffer.concat(chunks).toString("utf8").split("\n")) {
          const match = /line (\d{7})/.exec(line);
          if (!match) continue;
          const n = Number(match[1]);
          if (seen[n] === 0) {
            seen[n] = 1;
            distinct++;
          }
        }
        res.end("ok");
      });
    }),
  );
  return { port, distinct: () => distinct };
}

/** The app behind the proxy: answers every request with its body's length. */
async function app(): Promise<number> {
  const server = createServer((req, res) => {
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
    });
    req.on("end", () => res.end(`ok ${length}`));
  });
  server.keepAliveTimeout = 30_000;
  return listen(server);
}

/** `connections` requests at once over as many keep-alive connections, `rounds` times. */
async function proxyLoad(port: number): Promise<{ ok: number; failed: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const body = Buffer.alloc(4096, "b");
  let ok = 0;
  const failed: string[] = [];
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const put = i % 2 === 0;
      const req = request(
        {
          host: "127.0.0.1",
          port,
          agent,
          method: put ? "PUT" : "GET",
          path: `/item/${i}`,
          headers: put ? { "content-length": body.length } : {},
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode === 200 && text === `ok ${put ? body.length : 0}`) ok++;
            else failed.push(`${res.statusCode} ${text.slice(0, 200)}`);
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (error) => {
        failed.push(error.message);
        resolve();
      });
      req.end(put ? body : undefined);
    });
  try {
    for (let round = 0; round < rounds; round++)
      await Promise.all(
        Array.from({ length: connections }, (_, i) => one(round * connections + i)),
      );
  } finally {
    agent.destroy();
  }
  return { ok, failed };
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()) as Record<string, unknown>;
}

/** The container's cgroup peak (v2 memory.peak, v1 memory.max_usage_in_bytes), when readable. */
async function cgroupPeak(pid: number): Promise<number | undefined> {
  const groups = (await readFile(`/proc/${pid}/cgroup`, "utf8")).split("\n");
  const v2 = groups.find((line) => line.startsWith("0::"))?.slice(3);
  const v1 = groups.find((line) => /^\d+:memory:/.test(line))?.replace(/^\d+:memory:/, "");
  for (const path of [
    v1 !== undefined && `/sys/fs/cgroup/memory${v1}/memory.max_usage_in_bytes`,
    v2 !== undefined && `/sys/fs/cgroup${v2}/memory.peak`,
  ]) {
    if (!path) continue;
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text !== undefined && /^\d+\s*$/.test(text)) return Number(text);
  }
  return undefined;
}

test(`under --memory ${limit}, logs and proxy load at once: no OOM kill, nothing lost, memory under the limit`, async (t) => {
  const logsDir = join(dir, "logs");
  const stateDir = join(dir, "state");
  await mkdir(logsDir);
  await mkdir(stateDir);
  await chmod(stateDir, 0o777); // the sidecar runs as UID 10001
  const filler = "x".repeat(80);
  const lines: string[] = [];
  for (let i = 0; i < lineCount; i++)
    lines.push(`{"level":"info","msg":"line ${String(i).padStart(7, "0")} ${filler}"}`);
  await writeFile(join(logsDir, "app.log"), `${lines.join("\n")}\n`);
  lines.length = 0;

  const receiver = await lineReceiver();
  const appPort = await app();
  const [proxyPort, adminPort] = [await freePort(), await freePort()];
  const config = join(dir, "sidecar.yaml");
  await writeFile(
    config,
    [
      "admin:",
      `  address: 127.0.0.1:${adminPort}`,
      "logs:",
      "  stateDir: /var/lib/sidecar/state",
      "  sources:",
      '    - { type: file, include: ["/var/log/app/*.log"], parser: { type: json } }',
      "  sinks:",
      `    - { type: http, url: "http://127.0.0.1:${receiver.port}/ingest" }`,
      "proxy:",
      "  accessLog: { enabled: false }",
      "  listeners:",
      `    - address: 127.0.0.1:${proxyPort}`,
      "      routes: [{ cluster: app }]",
      "  clusters:",
      `    app: { endpoints: ["127.0.0.1:${appPort}"] }`,
      "",
    ].join("\n"),
  );
  const name = `sidecar-memory-${process.pid}`;
  containers.push(name);
  await podman([
    "run",
    "-d",
    "--name",
    name,
    "--memory",
    limit,
    "--memory-swap",
    limit,
    "--network",
    "host",
    "-v",
    `${config}:/etc/sidecar/sidecar.yaml:ro`,
    "-v",
    `${logsDir}:/var/log/app:ro`,
    "-v",
    `${stateDir}:/var/lib/sidecar/state`,
    images.sidecar,
    "start",
    "-c",
    "/etc/sidecar/sidecar.yaml",
  ]);
  const logs = async () =>
    (await podman(["logs", name]).catch((e: Error) => ({ stdout: e.message, stderr: "" }))).stdout;
  const admin = `http://127.0.0.1:${adminPort}`;
  await until(
    async () => (await fetch(`${admin}/readyz`).catch(() => undefined))?.status === 200,
    "the sidecar to be ready",
    30_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await logs()}`);
  });
  const pid = Number((await podman(["inspect", "--format", "{{.State.Pid}}", name])).stdout.trim());

  const load = await proxyLoad(proxyPort);
  await until(
    () => receiver.distinct() === lineCount,
    `all ${lineCount} lines at the receiver`,
    180_000,
  ).catch(async (error: Error) => {
    const metrics = await fetch(`${admin}/metrics`)
      .then((res) => res.text())
      .catch((e: Error) => e.message);
    const figures = metrics
      .split("\n")
      .filter((line) => /^sidecar_(logs|memory)/.test(line))
      .join("\n");
    throw new Error(
      `${error.message} (${receiver.distinct()} arrived)\n--- metrics ---\n${figures}\n--- sidecar ---\n${(await logs()).slice(-4000)}`,
    );
  });

  const status = (await getJson(`${admin}/status`)).memory as {
    limitBytes: number;
    buffers: unknown;
    pressure: { peakResidentBytes: number };
  };
  const hwm =
    Number(/^VmHWM:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
  const peak = await cgroupPeak(pid);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const transitions =
    /^sidecar_memory_pressure_transitions_total\{to="on"\} (\d+)/m.exec(metrics)?.[1] ?? "0";
  t.diagnostic(
    `peak resident (owned) ${(status.pressure.peakResidentBytes / MiB).toFixed(1)} MiB; VmHWM ${(hwm / MiB).toFixed(1)} MiB (with ~45 MiB of the node binary's file pages); cgroup peak incl. page cache ${peak === undefined ? "n/a" : (peak / MiB).toFixed(1)} MiB; pressure episodes ${transitions}; buffers ${JSON.stringify(status.buffers)}`,
  );

  await podman(["stop", "-t", "30", name], { timeoutMs: 60_000 });
  const state = JSON.parse(
    (await podman(["inspect", "--format", "{{json .State}}", name])).stdout,
  ) as { OOMKilled: boolean; ExitCode: number };
  const output = await logs();

  assert.equal(state.OOMKilled, false, `the container was OOM-killed\n${output.slice(-4000)}`);
  assert.notEqual(state.ExitCode, 137, "the sidecar was killed");
  assert.equal(state.ExitCode, 0, output.slice(-4000));
  assert.equal(status.limitBytes, limitBytes, "the sidecar read the container's limit");
  assert.deepEqual(load.failed.slice(0, 5), [], `${load.failed.length} requests failed`);
  assert.equal(load.ok, connections * rounds);
  assert.equal(receiver.distinct(), lineCount, "every line arrived");
  assert.match(output, /logs stopped; everything read was delivered/);
  assert.ok(
    status.pressure.peakResidentBytes < limitBytes,
    `the sidecar held ${(status.pressure.peakResidentBytes / MiB).toFixed(1)} MiB`,
  );
  // What the limit holds against the container (VmHWM also counts the node binary's file
  // pages, which are shared and charged elsewhere, so it may pass 128 MiB without any risk).
  if (peak !== undefined)
    assert.ok(peak < limitBytes, `the container's cgroup reached ${(peak / MiB).toFixed(1)} MiB`);
});
