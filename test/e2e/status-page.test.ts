import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { until } from "../../src/runtime/testing.ts";
import { requireTool } from "../helpers/require-tool.ts";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "../helpers/sidecar-process.ts";

const run = promisify(execFile);
const artifacts = new URL("../../.tmp/artifacts/", import.meta.url).pathname;

/** Headless Chromium as this machine runs it: no sandbox (root), no network but loopback. */
function chromiumArgs(profile: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profile}`,
  ];
}

// The admin port's status page in a real browser: it renders without JavaScript, shows the
// roles and their panels, follows a role going not ready, and never shows a secret.
test("the status page renders in Chromium, shows a role going not ready, and no secret", async () => {
  const chromium = requireTool("chromium");
  const dir = await tempDir();
  const [adminPort, appPort, proxyPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const unhealthy = join(dir.path, "unhealthy");
  const secret = "s3cr3t-token-value";
  const config = await writeConfig(
    dir.path,
    [
      `admin: { address: 127.0.0.1:${adminPort} }`,
      "app:",
      `  health: { type: http, port: ${appPort}, path: /healthz, intervalSeconds: 0.1, failureThreshold: 1 }`,
      "proxy:",
      `  listeners: [{ name: ingress, address: 127.0.0.1:${proxyPort}, routes: [{ cluster: app }] }]`,
      `  clusters: { app: { endpoints: [127.0.0.1:${appPort}] } }`,
      "logs:",
      `  stateDir: ${join(dir.path, "state")}`,
      `  sources: [{ type: file, include: [${join(dir.path, "*.log")}] }]`,
      `  sinks: [{ type: http, url: "http://127.0.0.1:9/ingest", auth: { type: bearer, token: ${secret} } }]`,
    ].join("\n"),
  );
  const app = new URL("../fixtures/test-app.mjs", import.meta.url).pathname;
  const proc = startSidecar(["run", "-c", config, "--", process.execPath, app], {
    env: { PORT: String(appPort), UNHEALTHY_FILE: unhealthy },
  });
  const page = `http://127.0.0.1:${adminPort}/`;
  const dumpDom = async () =>
    (
      await run(chromium, [...chromiumArgs(join(dir.path, "profile")), "--dump-dom", page], {
        timeout: 60_000,
      })
    ).stdout;
  try {
    await proc.waitFor('"msg":"sidecar ready to serve"');
    for (let i = 0; i < 5; i++) await httpGet(`http://127.0.0.1:${proxyPort}/`);

    const ready = await dumpDom();
    assert.match(ready, /id="overall">ready</);
    for (const role of ["admin", "logs", "app", "proxy"])
      assert.match(ready, new RegExp(`data-role="${role}" data-ready="true"`), role);
    assert.match(ready, /data-panel="proxy"/);
    assert.match(ready, /ingress: requests\/s/);
    assert.match(ready, /data-panel="logs"/);
    assert.match(ready, /sink errors/);

    await writeFile(unhealthy, "");
    await until(
      async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 503,
      "the app to go not ready",
    );
    const notReady = await dumpDom();
    assert.match(notReady, /id="overall">not ready</);
    assert.match(notReady, /data-role="app" data-ready="false"/);
    assert.match(notReady, /health probe: GET \/healthz answered 503/);

    await mkdir(artifacts, { recursive: true });
    await run(
      chromium,
      [
        ...chromiumArgs(join(dir.path, "profile")),
        "--window-size=1200,800",
        `--screenshot=${join(artifacts, "status-page.png")}`,
        page,
      ],
      { timeout: 60_000 },
    );

    for (const text of [ready, notReady, proc.stdout(), proc.stderr()])
      assert.doesNotMatch(text, new RegExp(secret), "a secret was shown");
  } finally {
    await proc.stop();
    await dir.cleanup();
  }
});
