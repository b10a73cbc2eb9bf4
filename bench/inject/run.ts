/**
 * `npm run bench:inject`: how fast the injector is, against the floor measured in the same run.
 *
 * 1. `sidecar inject` on a 1000-document file, in process, against the yaml library alone
 *    parsing and writing the injected result (what any comment-preserving tool must at least
 *    do to produce that output, which is ~5× the input).
 * 2. The webhook's latency per AdmissionReview under concurrent load (BENCH_CONCURRENCY clients,
 *    BENCH_REQUESTS requests in all), against a bare node:https server answering a fixed
 *    AdmissionReview on the same certificate: the TLS + HTTP floor. Peak RSS of both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { Agent, createServer, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { injectDocuments } from "../../src/injector/inject-documents.ts";
import { defaultTemplate } from "../../src/injector/injection-template.ts";
import { annotatedPod, podReview } from "../../src/injector/webhook/admission-fixtures.testing.ts";
import { generateWebhookCertificates } from "../../src/injector/webhook/gen-cert.ts";
import { writeFileAtomic } from "../../src/runtime/files/atomic-file.ts";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";

const documents = Number(process.env.BENCH_DOCUMENTS ?? 1000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const total = Number(process.env.BENCH_REQUESTS ?? 4000);

function manifest(count: number): string {
  let text = "";
  for (let i = 0; i < count; i++)
    text += `---
# workload ${i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  annotations:
    sidecar.dev/roles: proxy,logs
    sidecar.dev/proxy-port: "8080"
    sidecar.dev/log-paths: /var/log/app/*.log
spec:
  replicas: 2
  selector: { matchLabels: { app: web-${i} } }
  template:
    metadata:
      labels: { app: web-${i} }
    spec:
      containers:
        - name: web
          image: example/web:1.${i}
          ports: [{ containerPort: 8080 }]
          env: [{ name: MODE, value: prod }]
`;
  return text;
}

function timeIt(fn: () => void, rounds = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

async function peakRss(pid: number, until: Promise<unknown>): Promise<number> {
  let peak = 0;
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {}
  };
  const timer = setInterval(sample, 100);
  await until;
  clearInterval(timer);
  await sample();
  return peak;
}

async function load(
  port: number,
  ca: string,
  body: string,
): Promise<{ p50: number; p99: number; rps: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const latencies: number[] = [];
  let sent = 0;
  const started = performance.now();
  const deadline = started + 60_000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/mutate",
          method: "POST",
          agent,
          servername: "sidecar-webhook.sidecar-system.svc",
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - t0);
            resolve();
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total && performance.now() < deadline) {
        sent++;
        await one();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99), rps: latencies.length / seconds };
}

function waitFor(child: ChildProcess, pattern: RegExp): Promise<void> {
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c;
      if (pattern.test(output)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", () => reject(new Error(`exited before ready:\n${output}`)));
  });
}

// 1. inject on a big file
const text = manifest(documents);
const inject = timeIt(() => {
  injectDocuments({
    text,
    source: "bench.yaml",
    mode: "inject",
    flags: {},
    template: defaultTemplate,
    version: "bench",
  });
});
const output = injectDocuments({
  text,
  source: "bench.yaml",
  mode: "inject",
  flags: {},
  template: defaultTemplate,
  version: "bench",
}).text;
const floor = timeIt(() => {
  parseAllDocuments(output)
    .map((doc) => {
      doc.toJS();
      return doc.toString();
    })
    .join("");
});
console.log(`inject, ${documents} documents (${(text.length / 1024).toFixed(0)} KiB):`);
console.log(
  `  sidecar inject        ${inject.toFixed(0)} ms  (${((documents / inject) * 1000).toFixed(0)} documents/s)`,
);
console.log(
  `  yaml parse + write    ${floor.toFixed(0)} ms  (the floor: the ${(output.length / 1024).toFixed(0)} KiB output)`,
);
console.log(`  ratio                 ${(inject / floor).toFixed(2)}× the floor`);

// 2. the webhook under load
const dir = join(tmpdir(), `sidecar-bench-inject-${process.pid}`);
const certs = await generateWebhookCertificates({
  service: "sidecar-webhook",
  namespace: "sidecar-system",
});
await writeFileAtomic(join(dir, "tls.crt"), certs.serverCert).catch(async () => {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, "tls.crt"), certs.serverCert);
});
await writeFileAtomic(join(dir, "tls.key"), certs.serverKey);
const body = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: podReview(annotatedPod()),
});

const [webhookPort, adminPort] = await Promise.all([freePort(), freePort()]);
const { args, env: sidecarEnv } = await sidecarCommand("webhook");
const webhook = spawn(
  process.execPath,
  [
    ...args,
    "webhook",
    "--tls-cert",
    join(dir, "tls.crt"),
    "--tls-key",
    join(dir, "tls.key"),
    "--listen",
    `127.0.0.1:${webhookPort}`,
    "--admin-address",
    `127.0.0.1:${adminPort}`,
  ],
  {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...sidecarEnv, SIDECAR_LOG_LEVEL: "warn", SIDECAR_LOG_FORMAT: "json" },
  },
);
const ready = waitFor(webhook, /webhook listening|"level":"(warn|error)"/);
const staticAnswer = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  response: { uid: "x", allowed: true },
});
const floorPort = await freePort();
const floorServer = createServer({ cert: certs.serverCert, key: certs.serverKey }, (req, res) => {
  req.resume();
  req.on("end", () => res.end(staticAnswer));
});
await new Promise<void>((resolve) => floorServer.listen(floorPort, "127.0.0.1", resolve));
try {
  await Promise.race([ready, new Promise((r) => setTimeout(r, 5000))]);
  await load(webhookPort, certs.caCert, body); // warm-up
  const webhookRun = load(webhookPort, certs.caCert, body);
  const rss = await peakRss(webhook.pid!, webhookRun);
  const measured = await webhookRun;
  const floorRun = await load(floorPort, certs.caCert, body);
  console.log(
    `\nwebhook, ${total} AdmissionReviews, ${concurrency} concurrent clients (keep-alive TLS):`,
  );
  console.log(
    `  sidecar webhook       p50 ${measured.p50.toFixed(2)} ms  p99 ${measured.p99.toFixed(2)} ms  ${measured.rps.toFixed(0)} req/s  peak RSS ${rss.toFixed(0)} MB`,
  );
  console.log(
    `  bare node:https       p50 ${floorRun.p50.toFixed(2)} ms  p99 ${floorRun.p99.toFixed(2)} ms  ${floorRun.rps.toFixed(0)} req/s  (same process as the load: the floor)`,
  );
  console.log(
    `  ratio                 p99 ${(measured.p99 / floorRun.p99).toFixed(2)}×, throughput ${(measured.rps / floorRun.rps).toFixed(2)}×`,
  );
} finally {
  webhook.kill("SIGTERM");
  floorServer.close();
  const { rm } = await import("node:fs/promises");
  await rm(dir, { recursive: true, force: true });
}
