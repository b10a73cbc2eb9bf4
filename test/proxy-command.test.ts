import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { test } from "node:test";
import { testCertificates } from "../src/runtime/http/test-certificates.testing.ts";
import {
  freePort,
  httpGet,
  runSidecar,
  startSidecar,
  tempDir,
  writeConfig,
} from "./helpers/sidecar-process.ts";

test("`sidecar proxy --listen … --upstream …` proxies to the app and drains on SIGTERM", async () => {
  const app = createServer((req, res) => {
    res.setHeader("set-cookie", ["a=1", "b=2"]);
    res.end(
      `app saw ${req.url} xff=${req.headers["x-forwarded-for"]} rid=${req.headers["x-request-id"]}`,
    );
  });
  app.listen(0, "127.0.0.1");
  await once(app, "listening");
  const appPort = (app.address() as { port: number }).port;
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const dir = await tempDir();
  const config = await writeConfig(dir.path, `admin:\n  address: 127.0.0.1:${adminPort}\n`);
  const proc = startSidecar([
    "proxy",
    "-c",
    config,
    "--listen",
    `127.0.0.1:${listenPort}`,
    "--upstream",
    `http://127.0.0.1:${appPort}`,
  ]);
  try {
    await proc.waitFor("proxy listening", 20_000);
    const res = await httpGet(`http://127.0.0.1:${listenPort}/hello?x=1`, {
      headers: { "x-request-id": "cli-1" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, "app saw /hello?x=1 xff=127.0.0.1 rid=cli-1");
    assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
    await proc.waitFor('"request_id":"cli-1"');
    const metrics = await httpGet(`http://127.0.0.1:${adminPort}/metrics`);
    assert.match(metrics.body, /sidecar_proxy_requests_total\{listener="ingress"/);
    assert.equal(await proc.stop("SIGTERM"), 0);
  } finally {
    await proc.stop("SIGKILL");
    app.close();
    await dir.cleanup();
  }
});

test("`sidecar proxy -c` with a file that has no proxy: section is a usage error", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(dir.path, "log: { level: warn }\n");
    const { code, stderr } = await runSidecar(["proxy", "-c", config]);
    assert.equal(code, 2);
    assert.match(stderr, /has none/);
  } finally {
    await dir.cleanup();
  }
});

test("`sidecar proxy` with a bad --upstream is a usage error", async () => {
  const { code, stderr } = await runSidecar(["proxy", "--upstream", "ftp://x"]);
  assert.equal(code, 2);
  assert.match(stderr, /Invalid --upstream "ftp:\/\/x"/);
});

test("`sidecar run` with a proxy: section serves the app through the proxy once it is ready", async () => {
  const [appPort, listenPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = await tempDir();
  const appFile = `${dir.path}/app.mjs`;
  await writeFile(
    appFile,
    `import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";\ncreateServer((req, res) => res.end("app " + req.headers["x-forwarded-proto"])).listen(${appPort}, "127.0.0.1");\nprocess.on("SIGTERM", () => process.exit(0));\n`,
  );
  const config = await writeConfig(
    dir.path,
    [
      `admin: { address: "127.0.0.1:${adminPort}" }`,
      `app: { health: { type: http, port: ${appPort}, intervalSeconds: 0.1 } }`,
      "proxy:",
      "  listeners:",
      `    - address: 127.0.0.1:${listenPort}`,
      "      routes: [{ cluster: app }]",
      "  clusters:",
      `    app: { endpoints: ["127.0.0.1:${appPort}"] }`,
      "",
    ].join("\n"),
  );
  const proc = startSidecar(["run", "-c", config, "--", process.execPath, appFile]);
  try {
    await proc.waitFor("proxy listening", 20_000);
    const res = await httpGet(`http://127.0.0.1:${listenPort}/`);
    assert.equal(res.body, "app http");
    assert.equal(await proc.stop("SIGTERM"), 0);
  } finally {
    await proc.stop("SIGKILL");
    await dir.cleanup();
  }
});

test("`sidecar proxy --tls-cert --tls-key --api-keys --public` is the textbook security sidecar", async () => {
  const app = createServer((req, res) =>
    res.end(`app saw ${req.headers["x-auth-subject"] ?? "-"} ${req.headers["x-api-key"] ?? "-"}`),
  );
  app.listen(0, "127.0.0.1");
  await once(app, "listening");
  const dir = await tempDir();
  const certs = await testCertificates(dir.path, ["localhost"]);
  await writeFile(join(dir.path, "keys.yaml"), "ci: cli-s3cret\n");
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const config = await writeConfig(dir.path, `admin:\n  address: 127.0.0.1:${adminPort}\n`);
  const proc = startSidecar([
    "proxy",
    "-c",
    config,
    "--listen",
    `127.0.0.1:${listenPort}`,
    "--tls-cert",
    certs.serverCertFile,
    "--tls-key",
    certs.serverKeyFile,
    "--api-keys",
    join(dir.path, "keys.yaml"),
    "--public",
    "/healthz",
    "--upstream",
    `http://127.0.0.1:${(app.address() as { port: number }).port}`,
  ]);
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port: listenPort,
          path,
          servername: "localhost",
          ca: certs.ca,
          headers,
          agent: false,
        },
        (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  try {
    await proc.waitFor("proxy listening", 20_000);
    assert.equal((await get("/healthz")).status, 200);
    assert.equal((await get("/data")).status, 401);
    assert.deepEqual(await get("/data", { "x-api-key": "cli-s3cret" }), {
      status: 200,
      body: "app saw ci -",
    });
  } finally {
    await proc.stop("SIGKILL");
    app.close();
    await dir.cleanup();
  }
  const { code, stderr } = await runSidecar([
    "proxy",
    "--tls-cert",
    "a.pem",
    "--upstream",
    "http://127.0.0.1:1",
  ]);
  assert.equal(code, 2);
  assert.match(stderr, /--tls-cert and --tls-key go together/);
});
