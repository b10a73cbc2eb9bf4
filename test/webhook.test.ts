import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "node:tls";
import { applyPatch } from "rfc6902";
import { annotatedPod, podReview } from "../src/injector/webhook/admission-fixtures.testing.ts";
import { until } from "../src/runtime/testing.ts";
import { freePort, httpGet, runSidecar, startSidecar, tempDir } from "./helpers/sidecar-process.ts";

const serverName = "sidecar-webhook.sidecar-system.svc";

function post(port: number, ca: Buffer, body: string, path = "/mutate") {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        ca,
        servername: serverName,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function peerFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: serverName }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

// The webhook as the API server meets it: HTTPS with a certificate from `gen-cert`, an
// AdmissionReview in, a JSONPatch out that gives what `sidecar inject` gives.
test("sidecar webhook answers AdmissionReview over HTTPS, counts results, and reloads its certificate", async () => {
  const dir = await tempDir();
  const certs = join(dir.path, "certs");
  const gen = await runSidecar(["webhook", "gen-cert", "--out", certs]);
  assert.equal(gen.code, 0, gen.stderr);
  const caBundle = gen.stdout.trim();
  const ca = await readFile(join(certs, "ca.crt"));
  assert.equal(Buffer.from(caBundle, "base64").toString(), ca.toString());
  const [port, adminPort] = await Promise.all([freePort(), freePort()]);
  const proc = startSidecar([
    "webhook",
    "--tls-cert",
    join(certs, "tls.crt"),
    "--tls-key",
    join(certs, "tls.key"),
    "--listen",
    `127.0.0.1:${port}`,
    "--admin-address",
    `127.0.0.1:${adminPort}`,
  ]);
  try {
    await proc.waitFor("webhook listening");
    const pod = annotatedPod();
    const review = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: podReview(pod),
    };
    const answer = await post(port, ca, JSON.stringify(review));
    assert.equal(answer.status, 200);
    assert.equal(answer.json.kind, "AdmissionReview");
    const response = answer.json.response as { uid: string; allowed: boolean; patch: string };
    assert.equal(response.uid, review.request.uid);
    assert.equal(response.allowed, true);
    const patched = structuredClone(pod);
    applyPatch(patched, JSON.parse(Buffer.from(response.patch, "base64").toString()));
    const again = await post(port, ca, JSON.stringify({ ...review, request: podReview(patched) }));
    assert.equal(
      (again.json.response as { patch?: string }).patch,
      undefined,
      "never patched twice",
    );

    assert.equal((await post(port, ca, "{not json")).status, 400);
    assert.equal((await post(port, ca, JSON.stringify({ kind: "AdmissionReview" }))).status, 400);
    const metrics = (await httpGet(`http://127.0.0.1:${adminPort}/metrics`)).body;
    assert.match(metrics, /sidecar_webhook_requests_total\{result="injected"\} 1/);
    assert.match(metrics, /sidecar_webhook_requests_total\{result="already_injected"\} 1/);
    assert.match(metrics, /sidecar_webhook_requests_total\{result="bad_request"\} 2/);

    // Rotation: new certificate files (cert-manager renewing the Secret) are served without a restart.
    const before = await peerFingerprint(port, ca);
    const rotated = await runSidecar(["webhook", "gen-cert", "--out", certs]);
    assert.equal(rotated.code, 0);
    const newCa = await readFile(join(certs, "ca.crt"));
    await until(async () => {
      try {
        return (await peerFingerprint(port, newCa)) !== before;
      } catch {
        return false;
      }
    }, "the new certificate to be served");
  } finally {
    await proc.stop();
    await dir.cleanup();
  }
});

test("sidecar webhook without certificates is a usage error", async () => {
  const result = await runSidecar(["webhook"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Nothing to serve: give --tls-cert and --tls-key/);
  const half = await runSidecar(["webhook", "--tls-cert", "x.crt"]);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--tls-cert and --tls-key go together/);
});
