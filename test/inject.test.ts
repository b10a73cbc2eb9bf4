import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runSidecar, sidecarEntry, tempDir } from "./helpers/sidecar-process.ts";

const testdata = new URL("../src/injector/testdata/", import.meta.url).pathname;

function runWithStdin(
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [sidecarEntry, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

test("sidecar inject reads files, directories and stdin; sidecar uninject undoes it", async () => {
  const dir = await tempDir();
  try {
    await mkdir(join(dir.path, "manifests"));
    for (const name of ["pod.yaml", "deployment.yaml"])
      await copyFile(join(testdata, name), join(dir.path, "manifests", name));
    const injected = await runSidecar(["inject", "-f", join(dir.path, "manifests")]);
    assert.equal(injected.code, 0, injected.stderr);
    assert.equal((injected.stdout.match(/^kind: (Pod|Deployment)$/gm) ?? []).length, 2);
    assert.equal((injected.stdout.match(/sidecar\.dev\/status/g) ?? []).length, 2);
    const back = await runWithStdin(["uninject", "-f", "-"], injected.stdout);
    assert.equal(back.code, 0, back.stderr);
    assert.doesNotMatch(back.stdout, /sidecar\.dev\/status|name: sidecar$/m);
    assert.match(back.stdout, /# The web app \(a comment that must survive\)/);
  } finally {
    await dir.cleanup();
  }
});

test("sidecar inject with flags injects a workload without annotations", async () => {
  const pod =
    "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: app, image: x }]\n";
  const result = await runWithStdin(
    ["inject", "-f", "-", "--roles", "proxy", "--proxy-port", "8080", "--classic"],
    pod,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /- name: sidecar\n\s+image: ghcr\.io\/sidecar-dev\/sidecar:0\.1\.0/);
  assert.doesNotMatch(result.stdout, /initContainers/);
});

test("an input that cannot be injected exits 2 with a path-named message and writes nothing", async () => {
  const bad =
    "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  hostNetwork: true\n  containers: [{ name: app, image: x }]\n";
  const result = await runWithStdin(
    [
      "inject",
      "-f",
      "-",
      "-f",
      join(testdata, "pod.yaml"),
      "--roles",
      "proxy",
      "--proxy-port",
      "8080",
    ],
    bad,
  );
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /stdin: Pod\/p spec\.hostNetwork: .* \[SIDECAR_ERR_INJECT_CONFLICT\]/,
  );
  const missing = await runSidecar(["inject", "-f", "/nonexistent.yaml"]);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /Cannot read "\/nonexistent\.yaml": ENOENT \[SIDECAR_ERR_INJECT_READ\]/,
  );
  const none = await runSidecar(["inject"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Nothing to inject: pass -f/);
});
