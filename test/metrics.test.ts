import assert from "node:assert/strict";
import { test } from "node:test";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "./helpers/sidecar-process.ts";

test("sidecar run with a metrics section: the app's metrics are on the sidecar's /metrics while the app runs", async () => {
  const dir = await tempDir();
  const [adminPort, appPort] = [await freePort(), await freePort()];
  const config = await writeConfig(
    dir.path,
    `admin: { address: "127.0.0.1:${adminPort}" }
app:
  health: { type: tcp, port: ${appPort}, intervalSeconds: 0.1 }
metrics:
  url: http://127.0.0.1:${appPort}/metrics
  cacheSeconds: 0
  labelsFromEnv: { pod: POD_NAME }
`,
  );
  const app = new URL("./fixtures/test-app.mjs", import.meta.url).pathname;
  const proc = startSidecar(["run", "-c", config, "--", process.execPath, app], {
    env: { PORT: String(appPort), POD_NAME: "web-1" },
  });
  try {
    await proc.waitFor('"msg":"sidecar ready to serve"');
    const { body } = await httpGet(`http://127.0.0.1:${adminPort}/metrics`);
    assert.match(body, /^test_app_requests_total\{pod="web-1"\} \d+$/m);
    assert.match(body, /^sidecar_app_scrape_up 1$/m);
    assert.match(body, /^sidecar_role_up\{role="metrics"\} 1$/m);
    const status = await httpGet(`http://127.0.0.1:${adminPort}/`);
    assert.match(status.body, /data-panel="metrics"/);
  } finally {
    assert.equal(await proc.stop(), 0);
    await dir.cleanup();
  }
});
