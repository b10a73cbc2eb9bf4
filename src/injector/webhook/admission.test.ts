import assert from "node:assert/strict";
import { test } from "node:test";
import { applyPatch } from "rfc6902";
import { parse } from "yaml";
import { injectDocuments } from "../inject-documents.ts";
import { defaultTemplate } from "../injection-template.ts";
import { type AdmissionPolicy, admit } from "./admission.ts";
import { annotatedPod, podReview } from "./admission-fixtures.testing.ts";

const policy: AdmissionPolicy = {
  failurePolicy: "closed",
  injectByDefault: false,
  image: undefined,
  classic: false,
  template: defaultTemplate,
  version: "0.1.0",
};

test("the webhook's JSONPatch gives exactly what sidecar inject writes", () => {
  const pod = annotatedPod();
  const { response, result } = admit(podReview(pod), policy);
  assert.equal(result, "injected");
  assert.equal(response.allowed, true);
  assert.equal(response.patchType, "JSONPatch");
  const patched = structuredClone(pod);
  const errors = applyPatch(patched, JSON.parse(Buffer.from(response.patch!, "base64").toString()));
  assert.ok(
    errors.every((e) => e === null),
    `patch failed: ${errors.join(", ")}`,
  );
  const injected = parse(
    injectDocuments({
      text: JSON.stringify(pod),
      source: "pod",
      mode: "inject",
      flags: {},
      template: defaultTemplate,
      version: "0.1.0",
    }).text,
  );
  assert.deepEqual(patched, injected);
});

test("never patches a Pod twice, and leaves alone what does not ask for the sidecar", () => {
  const pod = annotatedPod();
  const first = admit(podReview(pod), policy).response;
  const patched = structuredClone(pod);
  applyPatch(patched, JSON.parse(Buffer.from(first.patch!, "base64").toString()));
  assert.deepEqual(admit(podReview(patched), policy), {
    response: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true },
    result: "already_injected",
  });
  const plain = { ...pod, metadata: { ...pod.metadata, annotations: {} } };
  assert.equal(admit(podReview(plain), policy).result, "skipped");
  const optedOut = {
    ...pod,
    metadata: {
      ...pod.metadata,
      labels: { "sidecar.dev/inject": "false" },
      annotations: { ...pod.metadata.annotations, "sidecar.dev/inject": "false" },
    },
  };
  assert.equal(admit(podReview(optedOut), { ...policy, injectByDefault: true }).result, "skipped");
  assert.equal(admit(podReview(pod, { operation: "UPDATE" }), policy).result, "skipped");
  assert.equal(
    admit(podReview(pod, { kind: { group: "apps", version: "v1", kind: "Deployment" } }), policy)
      .result,
    "skipped",
  );
});

test("a Pod that cannot be injected is refused with the reason (closed) or admitted with a warning (open)", () => {
  const pod = annotatedPod();
  const bad = { ...pod, spec: { ...pod.spec, hostNetwork: true } };
  const closed = admit(podReview(bad), policy);
  assert.equal(closed.result, "refused");
  assert.equal(closed.response.allowed, false);
  assert.equal(closed.response.status?.code, 400);
  assert.match(closed.response.status!.message, /Pod shop\/web-7d4b9c spec\.hostNetwork/);
  const open = admit(podReview(bad), { ...policy, failurePolicy: "open" });
  assert.equal(open.result, "failed_open");
  assert.equal(open.response.allowed, true);
  assert.equal(open.response.patch, undefined);
  assert.match(open.response.warnings![0]!, /sidecar injection failed/);
});

test("a Pod of a Job gets the Job's arrangement; the webhook's image is a default a Pod may override", () => {
  const pod = annotatedPod();
  const withImage = {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: { ...pod.metadata.annotations, "sidecar.dev/image": "mine/sidecar:1" },
    },
  };
  const patch = (p: unknown, pol: AdmissionPolicy) =>
    Buffer.from(
      admit(podReview(p as Record<string, unknown>), pol).response.patch ?? "",
      "base64",
    ).toString();
  assert.match(patch(withImage, { ...policy, image: "corp/sidecar:2" }), /mine\/sidecar:1/);
  assert.match(patch(pod, { ...policy, image: "corp/sidecar:2" }), /corp\/sidecar:2/);
  const jobPod = {
    ...pod,
    metadata: { ...pod.metadata, ownerReferences: [{ kind: "Job", name: "j" }] },
    spec: { containers: [{ name: "web", image: "x", command: ["/run"] }] },
  };
  assert.match(patch(jobPod, { ...policy, classic: true }), /sidecar-exit/);
});
