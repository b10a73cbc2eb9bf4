import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { writeKubernetesVolume } from "../src/runtime/files/kubernetes-volume.testing.ts";
import { until } from "../src/runtime/testing.ts";
import {
  freePort,
  httpGet,
  runSidecar,
  startSidecar,
  tempDir,
  writeConfig,
} from "./helpers/sidecar-process.ts";

const configApp = new URL("./fixtures/config-app.mjs", import.meta.url).pathname;

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
}

test("sidecar config --once publishes every output and exits 0; again, unchanged, it exits 0 without republishing", async () => {
  const dir = await tempDir();
  try {
    await writeKubernetesVolume(join(dir.path, "cm"), { "app.json": '{"a":1}', "b.txt": "B" });
    const args = [
      "config",
      "--once",
      "--source-dir",
      join(dir.path, "cm"),
      "--output-dir",
      join(dir.path, "out"),
      "--admin-address",
      "127.0.0.1:0",
    ];
    const first = await runSidecar(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await readFile(join(dir.path, "out", "app.json"), "utf8"), '{"a":1}');
    assert.equal(await readFile(join(dir.path, "out", "b.txt"), "utf8"), "B");
    const second = await runSidecar(args);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(!second.stdout.includes("config version published"), second.stdout);
  } finally {
    await dir.cleanup();
  }
});

test("sidecar config --once exits 1 naming the path when a required source cannot be read in time", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(
      dir.path,
      `admin: { address: "127.0.0.1:0" }\nconfig:\n  outputDir: ${join(dir.path, "out")}\n  sources:\n    - { name: settings, type: file, path: ${join(dir.path, "not-mounted")}, timeoutSeconds: 0.5 }\n`,
    );
    const result = await runSidecar(["config", "--once", "-c", config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /SIDECAR_ERR_CONFIG_SOURCE_TIMEOUT/);
    assert.ok(result.stderr.includes(join(dir.path, "not-mounted")), result.stderr);
  } finally {
    await dir.cleanup();
  }
});

test("sidecar config keeps watching: a ConfigMap swap is published, the app's reload URL is called once, /config and /metrics show it", async () => {
  const dir = await tempDir();
  const calls: string[] = [];
  const app = createServer((req, res) => {
    calls.push(`${req.method} ${req.url} ${req.headers["sidecar-config-version"]}`);
    res.end("reloaded");
  });
  app.listen(0, "127.0.0.1");
  await new Promise((resolve) => app.once("listening", resolve));
  const appPort = (app.address() as { port: number }).port;
  const adminPort = await freePort();
  await writeKubernetesVolume(join(dir.path, "cm"), { level: "info" });
  const config = await writeConfig(
    dir.path,
    `admin: { address: "127.0.0.1:${adminPort}" }
config:
  outputDir: ${join(dir.path, "out")}
  sources: [{ name: settings, type: file, path: ${join(dir.path, "cm")}, pollSeconds: 0.2 }]
  outputs: [{ path: app.json, template: '{"level": "{{level}}"}' }]
  notify: [{ type: http, url: "http://127.0.0.1:${appPort}/-/reload" }]
`,
  );
  const sidecar = startSidecar(["config", "-c", config]);
  try {
    await sidecar.waitFor("sidecar ready to serve");
    assert.equal(await readFile(join(dir.path, "out", "app.json"), "utf8"), '{"level": "info"}');
    assert.deepEqual(calls, [], "not notified of the first version");
    await writeKubernetesVolume(join(dir.path, "cm"), { level: "debug" });
    await until(() => calls.length === 1, "the reload call");
    assert.equal(await readFile(join(dir.path, "out", "app.json"), "utf8"), '{"level": "debug"}');
    const status = JSON.parse((await httpGet(`http://127.0.0.1:${adminPort}/config`)).body);
    assert.equal(calls[0], `POST /-/reload ${status.version.hash}`);
    assert.equal(status.sources[0].name, "settings");
    assert.equal(status.sources[0].up, true);
    assert.equal(status.notify[0].lastResult, "ok");
    const metrics = (await httpGet(`http://127.0.0.1:${adminPort}/metrics`)).body;
    assert.ok(metrics.includes(`sidecar_config_version_info{hash="${status.version.hash}"} 1`));
    assert.match(metrics, /sidecar_config_notifications_total\{kind="http",result="ok"\} 1/);
    assert.equal((await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status, 200);
    assert.equal(await sidecar.stop(), 0);
  } finally {
    await sidecar.stop();
    app.close();
    await dir.cleanup();
  }
});

for (const kind of ["signal", "restart"] as const) {
  test(`sidecar run: the app sees its config when it starts, and a new version reaches it by ${kind}`, async () => {
    const dir = await tempDir();
    const events = join(dir.path, "events");
    const out = join(dir.path, "out");
    await writeKubernetesVolume(join(dir.path, "cm"), { "app.conf": "version one" });
    const notify = kind === "signal" ? "{ type: signal, signal: SIGHUP }" : "{ type: restart }";
    const config = await writeConfig(
      dir.path,
      `admin: { address: "127.0.0.1:0" }
config:
  outputDir: ${out}
  sources: [{ name: cm, type: file, path: ${join(dir.path, "cm")}, pollSeconds: 0.2 }]
  notify: [${notify}]
`,
    );
    const sidecar = startSidecar([
      "run",
      "-c",
      config,
      "--",
      process.execPath,
      configApp,
      join(out, "app.conf"),
      events,
    ]);
    try {
      await until(async () => (await lines(events)).length > 0, "the app's start");
      assert.deepEqual(await lines(events), ["start version one"]);
      await writeKubernetesVolume(join(dir.path, "cm"), { "app.conf": "version two" });
      const expected = kind === "signal" ? "hup version two" : "start version two";
      await until(async () => (await lines(events)).includes(expected), expected, 15_000);
      assert.deepEqual(await lines(events), ["start version one", expected]);
    } finally {
      await sidecar.stop();
      await dir.cleanup();
    }
  });
}

test("sidecar config with a bad flag combination is a usage error", async () => {
  const result = await runSidecar(["config", "--process-name", "nginx"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--process-name needs --notify-signal/);
});

test("while a required source is missing, /readyz says which; once it appears the version is published and the sidecar is ready", async () => {
  const dir = await tempDir();
  const adminPort = await freePort();
  const config = await writeConfig(
    dir.path,
    `admin: { address: "127.0.0.1:${adminPort}" }
config:
  outputDir: ${join(dir.path, "out")}
  sources: [{ name: settings, type: file, path: ${join(dir.path, "cm")}, pollSeconds: 0.2 }]
`,
  );
  const sidecar = startSidecar(["config", "-c", config]);
  try {
    const readyz = () => httpGet(`http://127.0.0.1:${adminPort}/readyz`);
    await until(async () => (await readyz()).status === 503, "the admin server");
    const body = JSON.parse((await readyz()).body);
    assert.match(
      body.notReady.find((r: { name: string }) => r.name === "config").reason,
      /^starting: waiting for config source "settings" \(.*ENOENT/,
    );
    await writeKubernetesVolume(join(dir.path, "cm"), { "a.txt": "A" });
    await until(async () => (await readyz()).status === 200, "ready");
    assert.equal(await readFile(join(dir.path, "out", "a.txt"), "utf8"), "A");
  } finally {
    await sidecar.stop();
    await dir.cleanup();
  }
});
