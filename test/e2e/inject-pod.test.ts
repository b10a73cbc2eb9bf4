/**
 * `sidecar inject` end to end: a plain Deployment of the demo app (no sidecar in it), injected
 * in the classic form from its annotations, run by `podman kube play` with the test image. A
 * request through the injected proxy reaches the app and a line the app writes reaches a
 * receiver in the Pod. podman runs no native sidecars; the native form is checked by schema
 * (test/inject-manifests.test.ts). Needs podman, runc, catatonit (scripts/install-system-deps.sh).
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { injectDocuments } from "../../src/injector/inject-documents.ts";
import { defaultTemplate } from "../../src/injector/injection-template.ts";
import { freePort, until } from "../../src/runtime/testing.ts";
import { sidecarVersion } from "../../src/runtime/version.ts";
import {
  container,
  type KubeObject,
  type PlayedPod,
  playPod,
  podSpec,
  publish,
} from "../helpers/kube-pod.ts";
import { addReceiver, receivedEvents } from "../helpers/pod-receiver.ts";
import { buildTestImages, type TestImages } from "../helpers/podman.ts";

let images: TestImages;
let dir = "";
let pod: PlayedPod | undefined;

before(async () => {
  images = await buildTestImages();
  dir = await mkdtemp(join(tmpdir(), "sidecar-inject-pod-"));
  await chmod(dir, 0o777); // the receiver writes here as UID 10001
});

after(async () => {
  await pod?.down().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

/** The app as its team wrote it: no sidecar, only the annotations that ask for one. */
function appManifest(receiverPort: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  annotations:
    sidecar.dev/roles: proxy,logs
    sidecar.dev/proxy-port: "8080"
    sidecar.dev/log-paths: /var/log/app/*.log
    sidecar.dev/log-parser: json
    sidecar.dev/log-sink: http://127.0.0.1:${receiverPort}/ingest
spec:
  replicas: 1
  selector:
    matchLabels: { app: shop }
  template:
    metadata:
      labels: { app: shop }
    spec:
      terminationGracePeriodSeconds: 40
      containers:
        - name: app
          image: ${images.demoApp}
          imagePullPolicy: IfNotPresent
          env:
            - { name: PORT, value: "8080" }
            - { name: DEMO_LOG_FILE, value: /var/log/app/app.log }
`;
}

test("an injected Deployment runs: the proxy reaches the app and the app's log lines are shipped", async () => {
  const [http, admin, receiverPort] = [await freePort(), await freePort(), await freePort()];
  const injected = injectDocuments({
    text: appManifest(receiverPort),
    source: "shop.yaml",
    mode: "inject",
    flags: { classic: true, image: images.sidecar },
    template: defaultTemplate,
    version: sidecarVersion,
  });
  assert.deepEqual(injected.changed, ["Deployment/shop"]);
  const objects = parseAllDocuments(injected.text).map((d) => d.toJS() as KubeObject);
  const spec = podSpec(objects);
  const sidecar = container(spec, "sidecar");
  sidecar.imagePullPolicy = "IfNotPresent";
  publish(sidecar, 8081, http);
  publish(sidecar, 9901, admin);
  addReceiver(spec, receiverPort, { image: images.demoApp, dir });
  pod = await playPod(dir, `inject-${process.pid}`, objects);

  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: await res.text() };
  };
  await until(
    async () =>
      (await get(`http://127.0.0.1:${http}/healthz`).catch(() => ({ status: 0 }))).status === 200,
    "the app to answer through the injected proxy",
    60_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await pod!.logs("sidecar")}`);
  });
  const res = await get(`http://127.0.0.1:${http}/through-the-sidecar`);
  assert.equal(res.status, 200);
  assert.equal((JSON.parse(res.body) as { path: string }).path, "/through-the-sidecar");
  assert.deepEqual(JSON.parse((await get(`http://127.0.0.1:${admin}/readyz`)).body), {
    ready: true,
  });
  await until(
    async () => (await receivedEvents(dir)).some((e) => e.path === "/through-the-sidecar"),
    "the app's log line at the receiver",
    30_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\n--- sidecar ---\n${await pod!.logs("sidecar")}`);
  });
  const event = (await receivedEvents(dir)).find((e) => e.path === "/through-the-sidecar")!;
  assert.equal(event.pod, `inject-${process.pid}-pod-0`, "POD_NAME from the Downward API");
  await pod.down();
});
