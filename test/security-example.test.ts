import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import { createServer } from "node:http";
import { request } from "node:https";
import { join } from "node:path";
import { test } from "node:test";
import { testCertificates } from "../src/runtime/http/test-certificates.testing.ts";
import { freePort, startSidecar, tempDir } from "./helpers/sidecar-process.ts";

const example = new URL("../examples/security/", import.meta.url).pathname;

function get(port: number, path: string, ca: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path, servername: "localhost", ca, headers, agent: false },
        (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
        },
      );
      req.on("error", reject);
      req.end();
    },
  );
}

test("examples/security/sidecar.yaml: TLS, a public /healthz, the API key, /admin for ops only, the redirect", async () => {
  const { path, cleanup } = await tempDir();
  const app = createServer((req, res) =>
    res.end(
      `subject=${req.headers["x-auth-subject"] ?? "-"} key=${req.headers["x-api-key"] ?? "-"}`,
    ),
  );
  app.listen(0, "127.0.0.1");
  let proc: ReturnType<typeof startSidecar> | undefined;
  try {
    const certs = await testCertificates(path, ["localhost"]);
    await copyFile(certs.serverCertFile, join(path, "tls.crt"));
    await copyFile(certs.serverKeyFile, join(path, "tls.key"));
    const port = await freePort();
    const redirect = await freePort();
    proc = startSidecar(["proxy", "-c", join(example, "sidecar.yaml")], {
      env: {
        SECURE_LISTEN: `127.0.0.1:${port}`,
        REDIRECT_LISTEN: `127.0.0.1:${redirect}`,
        SIDECAR_ADMIN_ADDRESS: `127.0.0.1:${await freePort()}`,
        TLS_DIR: path,
        API_KEYS_FILE: join(example, "api-keys.yaml"),
        APP_ADDRESS: `127.0.0.1:${(app.address() as { port: number }).port}`,
      },
    });
    await proc.waitFor("proxy listening", 20_000);
    const ca = certs.ca;
    const health = await get(port, "/healthz", ca);
    assert.equal(health.status, 200);
    const anonymous = await get(port, "/orders", ca);
    assert.equal(anonymous.status, 401);
    assert.equal(
      anonymous.headers["www-authenticate"],
      'ApiKey realm="sidecar", header="x-api-key"',
    );
    const bot = await get(port, "/orders", ca, { "x-api-key": "demo-key-ci-bot-change-me" });
    assert.equal(bot.body, "subject=ci-bot key=-");
    assert.equal(
      (await get(port, "/admin/users", ca, { "x-api-key": "demo-key-ci-bot-change-me" })).status,
      403,
    );
    const ops = await get(port, "/admin/users", ca, { "x-api-key": "demo-key-ops-change-me" });
    assert.equal(ops.body, "subject=ops key=-");
    const moved = await fetch(`http://127.0.0.1:${redirect}/orders?x=1`, { redirect: "manual" });
    assert.equal(moved.status, 308);
    assert.equal(moved.headers.get("location"), "https://127.0.0.1:8443/orders?x=1");
    assert.doesNotMatch(proc.stdout() + proc.stderr(), /demo-key-/);
  } finally {
    await proc?.stop();
    app.close();
    await cleanup();
  }
});
