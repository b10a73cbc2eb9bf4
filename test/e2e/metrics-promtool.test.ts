import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { requireTool } from "../helpers/require-tool.ts";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "../helpers/sidecar-process.ts";

test("promtool check metrics finds no problem in /metrics of a running sidecar", async () => {
  const promtool = requireTool("promtool");
  const { path, cleanup } = await tempDir();
  const adminPort = await freePort();
  const appPort = await freePort();
  const config = await writeConfig(
    path,
    `admin:\n  address: 127.0.0.1:${adminPort}\napp:\n  health:\n    type: tcp\n    port: ${appPort}\n    intervalSeconds: 0.1\n`,
  );
  const app = new URL("../fixtures/test-app.mjs", import.meta.url).pathname;
  const proc = startSidecar(["run", "-c", config, "--", process.execPath, app], {
    env: { PORT: String(appPort) },
  });
  try {
    await proc.waitFor('"msg":"sidecar ready to serve"');
    const { status, body } = await httpGet(`http://127.0.0.1:${adminPort}/metrics`);
    assert.equal(status, 200);
    for (const name of [
      "sidecar_build_info",
      "sidecar_uptime_seconds",
      "sidecar_role_up",
      "sidecar_app_up",
      "sidecar_app_restarts_total",
    ]) {
      assert.match(body, new RegExp(`^# TYPE ${name} `, "m"));
    }
    const check = spawnSync(promtool, ["check", "metrics"], { input: body, encoding: "utf8" });
    assert.equal(check.status, 0, `promtool reported problems:\n${check.stdout}${check.stderr}`);
    assert.equal(`${check.stdout}${check.stderr}`.trim(), "");
  } finally {
    await proc.stop();
    await cleanup();
  }
});
