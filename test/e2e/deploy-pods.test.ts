/**
 * The shipped manifests as real Pods: deploy/examples/<use case>/classic rendered with
 * `kubectl kustomize` and run by `podman kube play` with the image build-test-image.sh makes
 * (podman runs no native sidecars, see /deploy/README.md). The containers share the Pod's
 * network namespace and emptyDir volumes as in a cluster. The test reaches the Pod through
 * ports published on 127.0.0.1, and a log receiver runs inside the Pod on its loopback,
 * writing what it gets to a host directory. Every Pod is taken down, also when a test fails.
 * Needs podman, runc, catatonit and kubectl (bash scripts/install-system-deps.sh).
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort, until } from "../../src/runtime/testing.ts";
import {
  container,
  type KubeObject,
  kustomize,
  type PlayedPod,
  playPod,
  podSpec,
  publish,
  setEnv,
} from "../helpers/kube-pod.ts";
import { addReceiver as addPodReceiver, receivedEvents } from "../helpers/pod-receiver.ts";
import { buildTestImages, podman, type TestImages } from "../helpers/podman.ts";
import { runSidecar } from "../helpers/sidecar-process.ts";

let images: TestImages;
let dir = "";
const pods: PlayedPod[] = [];
const runId = `${process.pid}`;

before(async () => {
  images = await buildTestImages();
  dir = await mkdtemp(join(tmpdir(), "sidecar-pods-"));
  await chmod(dir, 0o777); // the receiver writes here as UID 10001
});

after(async () => {
  for (const pod of pods) await pod.down().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

const addReceiver = (spec: KubeObject, port: number) =>
  addPodReceiver(spec, port, { image: images.demoApp, dir });
const received = () => receivedEvents(dir);

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

/** Polls `url` until it answers 200 (the Pod's containers take a moment to start). */
async function waitOk(url: string, pod: PlayedPod, logsOf: string): Promise<void> {
  await until(
    async () => (await get(url).catch(() => ({ status: 0 }))).status === 200,
    `${url} to answer 200`,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- ${logsOf} ---\n${await pod.logs(logsOf)}`);
  });
}

/** The process's resident memory (VmRSS, kB) of PID 1 in a container. */
async function rssKiB(pod: PlayedPod, name: string): Promise<number> {
  const status = await pod.nodeEval(
    name,
    'process.stdout.write(require("node:fs").readFileSync("/proc/1/status", "utf8"))',
  );
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
}

test("reverse proxy: a request through the sidecar reaches the app; /readyz answers through the Pod; non-root on a read-only root", async (t) => {
  const objects = await kustomize("deploy/examples/reverse-proxy/classic");
  const spec = podSpec(objects);
  const [http, admin] = [await freePort(), await freePort()];
  publish(container(spec, "sidecar"), 8081, http);
  publish(container(spec, "sidecar"), 9901, admin);
  const pod = await playPod(dir, `rp-${runId}`, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  assert.deepEqual(JSON.parse((await get(`http://127.0.0.1:${admin}/readyz`)).body), {
    ready: true,
  });
  await waitOk(`http://127.0.0.1:${http}/healthz`, pod, "app");
  const res = await get(`http://127.0.0.1:${http}/hello`);
  assert.equal(res.status, 200);
  const body = JSON.parse(res.body) as { message: string; path: string; requestId?: string };
  assert.equal(body.message, "hello from the demo app");
  assert.equal(body.path, "/hello");
  assert.ok(body.requestId, "the proxy adds X-Request-Id on the way to the app");

  const identity = JSON.parse(
    await pod.nodeEval(
      "sidecar",
      `const fs = require("node:fs");
       let write = "written";
       try { fs.writeFileSync("/app/probe", "") } catch (e) { write = e.code }
       const status = fs.readFileSync("/proc/1/status", "utf8");
       console.log(JSON.stringify({ uid: process.getuid(), write,
         capEff: /^CapEff:\\s+(\\S+)/m.exec(status)[1], noNewPrivs: /^NoNewPrivs:\\s+(\\d)/m.exec(status)[1],
         cmd: fs.readFileSync("/proc/1/cmdline", "utf8").split("\\0").filter(Boolean).slice(-3) }))`,
    ),
  );
  assert.deepEqual(identity, {
    uid: 10001,
    write: "EROFS",
    capEff: "0000000000000000",
    noNewPrivs: "1",
    cmd: ["proxy", "-c", "/etc/sidecar/sidecar.yaml"],
  });
  t.diagnostic(`sidecar proxy idle RSS in the Pod: ${await rssKiB(pod, "sidecar")} kB`);
  await pod.down();
});

test("log collection: a line the app writes arrives at a receiver, with the Pod's name", async (t) => {
  const objects = await kustomize("deploy/examples/log-collection/classic");
  const spec = podSpec(objects);
  const [appPort, admin, receiverPort] = [await freePort(), await freePort(), await freePort()];
  const sidecar = container(spec, "sidecar");
  publish(sidecar, 9901, admin);
  publish(container(spec, "app"), 8080, appPort);
  setEnv(sidecar, "LOGS_SINK_URL", `http://127.0.0.1:${receiverPort}/ingest`);
  addReceiver(spec, receiverPort);
  const pod = await playPod(dir, `logs-${runId}`, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  await waitOk(`http://127.0.0.1:${appPort}/healthz`, pod, "app");
  assert.equal((await get(`http://127.0.0.1:${appPort}/from-the-test`)).status, 200);
  await until(
    async () => (await received()).some((e) => e.path === "/from-the-test"),
    "the app's log line at the receiver",
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await pod.logs("sidecar")}`);
  });
  const event = (await received()).find((e) => e.path === "/from-the-test")!;
  assert.equal(event.message, "request", JSON.stringify(event));
  assert.equal(event.pod, `logs-${runId}-pod-0`, "POD_NAME from the Downward API");
  assert.equal(event.namespace, "default");
  t.diagnostic(`sidecar logs idle RSS in the Pod: ${await rssKiB(pod, "sidecar")} kB`);
  await pod.down();
});

test("all in one: proxy and logs in one process; kube down (SIGTERM) ships the last lines and exits 0 in time", async (t) => {
  const objects = await kustomize("deploy/examples/all-in-one/classic");
  const spec = podSpec(objects);
  const [http, admin, receiverPort] = [await freePort(), await freePort(), await freePort()];
  const sidecar = container(spec, "sidecar");
  publish(sidecar, 8081, http);
  publish(sidecar, 9901, admin);
  setEnv(sidecar, "LOGS_SINK_URL", `http://127.0.0.1:${receiverPort}/ingest`);
  addReceiver(spec, receiverPort);
  const pod = await playPod(dir, `aio-${runId}`, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  await waitOk(`http://127.0.0.1:${http}/healthz`, pod, "app");
  t.diagnostic(`sidecar proxy+logs idle RSS in the Pod: ${await rssKiB(pod, "sidecar")} kB`);
  const status = JSON.parse((await get(`http://127.0.0.1:${admin}/status`)).body) as {
    roles: { name: string }[];
  };
  // The Pod sets a memory limit, so the runtime's memory-pressure watch runs beside the roles.
  assert.deepEqual(status.roles.map((r) => r.name).sort(), ["admin", "logs", "memory", "proxy"]);

  // Lines written just before SIGTERM: the logs role must still ship them while stopping.
  const paths = Array.from({ length: 5 }, (_, i) => `/last-${i}`);
  for (const path of paths)
    assert.equal((await get(`http://127.0.0.1:${http}${path}`)).status, 200);
  await pod.stop(); // SIGTERM, as `podman kube down` and the kubelet send it
  assert.equal(await pod.exitCode("sidecar"), 0, "exited by itself, not killed at the timeout");
  const output = await pod.logs("sidecar");

  const events = output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const stopped = events.find((e) => e.msg === "sidecar stopped");
  assert.ok(stopped, `the sidecar logged its clean exit:\n${output}`);
  assert.equal(stopped.exitCode, 0);
  assert.ok(events.some((e) => e.msg === "shutting down"));
  const shipped = new Set((await received()).map((e) => e.path));
  for (const path of paths) assert.ok(shipped.has(path), `${path} shipped before exit`);
  await pod.down();
});

test("config management: the init container publishes the ConfigMap's settings before the app starts, and a change reaches the app", async () => {
  const objects = await kustomize("deploy/examples/config-management/classic");
  const spec = podSpec(objects);
  assert.deepEqual(
    spec.initContainers.map((c: KubeObject) => c.args.slice(0, 2)),
    [["config", "--once"]],
  );
  const [http, admin] = [await freePort(), await freePort()];
  publish(container(spec, "sidecar"), 8081, http);
  publish(container(spec, "sidecar"), 9901, admin);
  const name = `config-${runId}`;
  const pod = await playPod(dir, name, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  await waitOk(`http://127.0.0.1:${http}/healthz`, pod, "app");
  const greeting = async () =>
    (JSON.parse((await get(`http://127.0.0.1:${http}/hello`)).body) as { message: string }).message;
  assert.equal(await greeting(), "hello from the ConfigMap from the demo app");

  // An edit of the ConfigMap: podman keeps its files in a volume on the host.
  const { stdout } = await podman([
    "volume",
    "inspect",
    "--format",
    "{{.Mountpoint}}",
    `${name}-config-management-app-settings`,
  ]);
  await writeFile(join(stdout.trim(), "settings.yaml"), "greeting: hello again\n");
  await until(
    async () => (await greeting()) === "hello again from the demo app",
    "the new greeting through the proxy",
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await pod.logs("sidecar")}`);
  });
  await pod.down();
});

test("security proxy: TLS on 8443 from the Secret; /healthz is public; every other path needs the API key, which the app never sees", async () => {
  const objects = await kustomize("deploy/examples/security-proxy/classic");
  const spec = podSpec(objects);
  // podman has no Secrets: the two Secret volumes become host folders the test fills.
  const { generate } = await import("selfsigned");
  const cert = await generate([{ name: "commonName", value: "security-proxy" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
  });
  const secrets = { tls: join(dir, "tls"), "api-keys": join(dir, "api-keys") };
  await mkdir(secrets.tls);
  await mkdir(secrets["api-keys"]);
  await writeFile(join(secrets.tls, "tls.crt"), cert.cert, { mode: 0o644 });
  await writeFile(join(secrets.tls, "tls.key"), cert.private, { mode: 0o644 });
  await writeFile(join(secrets["api-keys"], "keys.yaml"), "shop: demo-key-for-the-pod-test\n", {
    mode: 0o644,
  });
  for (const volume of spec.volumes)
    if (volume.name in secrets) {
      delete volume.secret;
      volume.hostPath = { path: secrets[volume.name as keyof typeof secrets], type: "Directory" };
    }
  const [https, admin] = [await freePort(), await freePort()];
  publish(container(spec, "sidecar"), 8443, https);
  publish(container(spec, "sidecar"), 9901, admin);
  const pod = await playPod(dir, `sec-${runId}`, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  const tlsGet = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string; challenge?: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: "127.0.0.1", port: https, path, ca: cert.cert, headers },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body,
              ...(res.headers["www-authenticate"]
                ? { challenge: String(res.headers["www-authenticate"]) }
                : {}),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  await until(
    async () => (await tlsGet("/healthz").catch(() => ({ status: 0 }))).status === 200,
    "/healthz over TLS without a key",
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await pod.logs("sidecar")}`);
  });
  const refused = await tlsGet("/orders");
  assert.equal(refused.status, 401);
  assert.ok(refused.challenge, "401 carries WWW-Authenticate");
  const allowed = await tlsGet("/orders", { "x-api-key": "demo-key-for-the-pod-test" });
  assert.equal(allowed.status, 200, allowed.body);
  assert.equal((JSON.parse(allowed.body) as { path: string }).path, "/orders");
  assert.doesNotMatch(allowed.body, /demo-key-for-the-pod-test/);
  assert.doesNotMatch(await pod.logs("sidecar"), /demo-key-for-the-pod-test/);
  await pod.down();
});

test("data sync: the init container restores the backup before the app starts, and the sidecar backs up what the app writes", async () => {
  const objects = await kustomize("deploy/examples/data-sync/classic");
  const spec = podSpec(objects);
  // The example's target is S3; here a directory target on the host stands in for the bucket
  // (the S3 target itself is tested against s3rver in test/sync.test.ts), and podman has no
  // Secrets for the credentials it would need.
  const backup = join(dir, "backup");
  const seed = join(dir, "seed");
  await mkdir(seed);
  await writeFile(join(seed, "notes.txt"), "restored from the backup\n");
  const seeded = await runSidecar([
    "sync",
    "--data-dir",
    seed,
    "--target",
    backup,
    "--once",
    "--admin-address",
    "127.0.0.1:0",
  ]);
  assert.equal(seeded.code, 0, seeded.stderr + seeded.stdout);
  // The sidecar writes the backup as UID 10001: every folder the seeding made is open to it.
  await chmod(backup, 0o777);
  for (const entry of await readdir(backup, { recursive: true, withFileTypes: true }))
    if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o777);
  const configMap = objects.find(
    (o) => o.kind === "ConfigMap" && /sidecar-config/.test(o.metadata.name),
  )!;
  configMap.data["sidecar.yaml"] = configMap.data["sidecar.yaml"].replace(
    / {2}target:\n( {4}.*\n)+/,
    "  target: { type: dir, path: /backup }\n  debounceSeconds: 0.2\n",
  );
  for (const name of ["restore", "sidecar"]) {
    const c = container(spec, name);
    delete c.envFrom;
    c.volumeMounts.push({ name: "backup", mountPath: "/backup" });
  }
  spec.volumes.push({ name: "backup", hostPath: { path: backup, type: "Directory" } });
  const admin = await freePort();
  publish(container(spec, "sidecar"), 9901, admin);
  const pod = await playPod(dir, `sync-${runId}`, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  const read = (path: string) =>
    pod.nodeEval(
      "app",
      `process.stdout.write(require("node:fs").readFileSync(${JSON.stringify(path)}, "utf8"))`,
    );
  assert.equal(await read("/data/notes.txt"), "restored from the backup\n");
  await pod.nodeEval(
    "app",
    'require("node:fs").writeFileSync("/data/written-in-the-pod.txt", "new data\\n")',
  );
  await until(
    async () =>
      (await readFile(join(backup, "manifest.json"), "utf8").catch(() => "")).includes(
        "written-in-the-pod.txt",
      ),
    "the new file in the backup's manifest",
    30_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await pod.logs("sidecar")}`);
  });
  await pod.down();
});

test("monitoring: the sidecar's /metrics serves the app's series with the Pod's name and namespace, and its own", async (t) => {
  const objects = await kustomize("deploy/examples/monitoring/classic");
  const spec = podSpec(objects);
  const [appPort, admin] = [await freePort(), await freePort()];
  publish(container(spec, "sidecar"), 9901, admin);
  publish(container(spec, "app"), 8080, appPort);
  const name = `metrics-${runId}`;
  const pod = await playPod(dir, name, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "sidecar");
  await waitOk(`http://127.0.0.1:${appPort}/healthz`, pod, "app");
  let body = "";
  await until(async () => {
    body = (await get(`http://127.0.0.1:${admin}/metrics`)).body;
    return /^sidecar_app_scrape_up 1$/m.test(body);
  }, "the app's metrics on the sidecar's /metrics").catch(async (error: Error) => {
    throw new Error(`${error.message}\n${body}\n--- sidecar ---\n${await pod.logs("sidecar")}`);
  });
  assert.match(
    body,
    new RegExp(`^demo_requests_total\\{pod="${name}-pod-0",namespace="default"\\} \\d+$`, "m"),
  );
  assert.match(body, /^sidecar_build_info\{/m);
  t.diagnostic(`sidecar metrics idle RSS in the Pod: ${await rssKiB(pod, "sidecar")} kB`);
  await pod.down();
});

test("node agent: node_exporter's families from the host's /proc, /sys and /, and a Pod's log line with its metadata", async (t) => {
  const objects = (await kustomize("deploy/examples/node-agent")).filter(
    (o) => o.kind !== "Namespace" && o.kind !== "Service",
  );
  // podman plays Deployments: the DaemonSet's Pod, once.
  const daemonSet = objects.find((o) => o.kind === "DaemonSet")!;
  daemonSet.kind = "Deployment";
  daemonSet.spec.replicas = 1;
  delete daemonSet.spec.updateStrategy;
  delete daemonSet.spec.template.spec.priorityClassName;
  const spec = podSpec(objects);
  const [admin, receiverPort] = [await freePort(), await freePort()];
  const agent = container(spec, "node-agent");
  // The host network: a free loopback port rather than the node's 9100.
  setEnv(agent, "SIDECAR_ADMIN_ADDRESS", `127.0.0.1:${admin}`);
  setEnv(agent, "LOGS_SINK_URL", `http://127.0.0.1:${receiverPort}/ingest`);
  // A kubelet-style pod log tree of the test's own instead of the machine's /var/log/pods.
  const podLogs = join(dir, "pods");
  const containerDir = join(podLogs, "shop_web-1_0f1e2d3c", "app");
  await mkdir(containerDir, { recursive: true });
  await writeFile(
    join(containerDir, "0.log"),
    "2026-11-27T10:00:00.000000001Z stdout P hello from \n2026-11-27T10:00:00.000000002Z stdout F the node\n",
  );
  await chmod(join(podLogs, "shop_web-1_0f1e2d3c"), 0o755);
  spec.volumes.find((v: KubeObject) => v.name === "pod-logs").hostPath.path = podLogs;
  addReceiver(spec, receiverPort);
  // podman maps no ports on the host network; the agent's admin port is the host's.
  for (const c of spec.containers) delete c.ports;
  agent.startupProbe.httpGet.port = admin;
  agent.readinessProbe.httpGet.port = admin;
  agent.livenessProbe.httpGet.port = admin;
  const pod = await playPod(dir, `node-${runId}`, objects);
  pods.push(pod);

  await waitOk(`http://127.0.0.1:${admin}/readyz`, pod, "node-agent");
  const metrics = (await get(`http://127.0.0.1:${admin}/metrics`)).body;
  for (const family of [
    "node_cpu_seconds_total",
    "node_memory_MemTotal_bytes",
    "node_load1",
    "node_network_receive_bytes_total",
    "node_boot_time_seconds",
  ])
    assert.match(metrics, new RegExp(`^${family}[{ ]`, "m"), family);
  assert.match(metrics, /^node_filesystem_size_bytes\{[^}]*mountpoint="\/"[^}]*\} [1-9]/m);
  assert.doesNotMatch(
    metrics,
    /^node_scrape_collector_success\{collector="(cpu|filesystem|meminfo)"\} 0$/m,
  );
  await until(
    async () => (await received()).some((e) => e.message === "hello from the node"),
    "the Pod's log line at the receiver",
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- node-agent ---\n${await pod.logs("node-agent")}`);
  });
  const event = (await received()).find((e) => e.message === "hello from the node")!;
  assert.deepEqual(
    [event.namespace, event.pod, event.pod_uid, event.container],
    ["shop", "web-1", "0f1e2d3c", "app"],
    JSON.stringify(event),
  );
  t.diagnostic(`sidecar node idle RSS in the Pod: ${await rssKiB(pod, "node-agent")} kB`);
  await pod.down();
});
