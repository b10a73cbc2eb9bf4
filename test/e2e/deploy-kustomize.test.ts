/**
 * Every kustomization under deploy/ rendered with `kubectl kustomize` (kubectl >= 1.27, which
 * has kustomize 5; the machines have kubectl 1.32) and the rendering checked against the
 * Kubernetes schemas and the Pod policy, as test/deploy-manifests.test.ts checks the files.
 * Also: the native form has the sidecar as an init container with restartPolicy Always, the
 * classic form has it under containers, and otherwise the two are the same Pod.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { policyProblems } from "../helpers/deploy-policy.ts";
import { type KubeObject, kustomize, podSpec } from "../helpers/kube-pod.ts";
import { kubernetesSchemaVersion, schemaProblems } from "../helpers/kube-schema.ts";

const { version } = JSON.parse(await readFile("package.json", "utf8")) as { version: string };

async function kustomizations(): Promise<string[]> {
  const entries = await readdir("deploy", { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name === "kustomization.yaml")
    .map((e) => e.parentPath)
    .filter((dir) => !dir.startsWith("deploy/components"))
    .sort();
}

test(`every kustomize rendering under deploy/ is valid against the Kubernetes ${kubernetesSchemaVersion} schemas and the Pod policy`, async () => {
  const dirs = await kustomizations();
  assert.ok(dirs.includes("deploy/base") && dirs.includes("deploy/examples/all-in-one/classic"));
  const problems: string[] = [];
  for (const dir of dirs) {
    const objects = await kustomize(dir);
    assert.ok(objects.length > 0, `${dir} renders something`);
    for (const object of objects) {
      for (const p of await schemaProblems(object)) problems.push(`${dir}: ${object.kind}: ${p}`);
      for (const p of policyProblems(object, version)) problems.push(`${dir}: ${p}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("native and classic forms: the sidecar moves from a restartPolicy Always init container to containers, nothing else changes", async () => {
  const classicDirs = (await kustomizations()).filter((d) => d.endsWith("/classic"));
  assert.ok(classicDirs.length >= 3);
  for (const classicDir of classicDirs) {
    const nativeDir = join(dirname(classicDir), "native");
    const native = podSpec(await kustomize(nativeDir));
    const classic = podSpec(await kustomize(classicDir));
    const index = native.initContainers.findIndex((c: KubeObject) => c.name === "sidecar");
    const sidecar = native.initContainers[index] as KubeObject;
    assert.equal(sidecar?.restartPolicy, "Always", nativeDir);
    assert.ok(!native.containers.some((c: KubeObject) => c.name === "sidecar"), nativeDir);

    const { restartPolicy: _, ...classicSidecar } = sidecar;
    assert.deepEqual(classic.containers[0], classicSidecar, classicDir);
    assert.deepEqual(classic.containers.slice(1), native.containers, classicDir);
    assert.deepEqual(
      classic.initContainers,
      native.initContainers.filter((_: unknown, i: number) => i !== index),
      classicDir,
    );
    assert.deepEqual(
      { ...classic, containers: 0, initContainers: 0 },
      { ...native, containers: 0, initContainers: 0 },
    );
  }
});
