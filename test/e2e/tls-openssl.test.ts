import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { request } from "node:https";
import { join } from "node:path";
import { test } from "node:test";
import { requireTool } from "../helpers/require-tool.ts";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "../helpers/sidecar-process.ts";

/** A self-signed EC certificate for `name`, made by Debian's openssl. */
function selfSigned(openssl: string, dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const made = spawnSync(
    openssl,
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(made.status, 0, made.stderr);
  return { cert, key };
}

/** `openssl s_client` against the listener; its exit status and everything it printed. */
function sClient(openssl: string, port: number, args: string[]): { ok: boolean; text: string } {
  const run = spawnSync(openssl, ["s_client", "-connect", `127.0.0.1:${port}`, "-brief", ...args], {
    input: "",
    encoding: "utf8",
    timeout: 10_000,
  });
  return { ok: run.status === 0, text: `${run.stdout}${run.stderr}` };
}

test("openssl s_client: TLS 1.2 and 1.3 with ALPN http/1.1 and SNI work; TLS 1.0 and 1.1 are refused; the API key and /healthz behave", async () => {
  const openssl = requireTool("openssl");
  const { path, cleanup } = await tempDir();
  const app = createServer((req, res) =>
    res.end(`app saw ${req.headers["x-auth-subject"] ?? "-"}`),
  );
  app.listen(0, "127.0.0.1");
  let proc: ReturnType<typeof startSidecar> | undefined;
  try {
    const main = selfSigned(openssl, path, "localhost");
    const other = selfSigned(openssl, path, "other.test");
    await writeFile(join(path, "keys.yaml"), "ci-bot: e2e-s3cret-key\n");
    const port = await freePort();
    const adminPort = await freePort();
    const appPort = (app.address() as { port: number }).port;
    const config = await writeConfig(
      path,
      `admin:
  address: 127.0.0.1:${adminPort}
proxy:
  listeners:
    - address: 127.0.0.1:${port}
      tls:
        certificates:
          - { certFile: ${main.cert}, keyFile: ${main.key} }
          - { certFile: ${other.cert}, keyFile: ${other.key} }
      routes:
        - { match: { path: /healthz }, cluster: app }
        - cluster: app
          filters:
            - type: api-key
              keys: { file: ${join(path, "keys.yaml")} }
  clusters:
    app: { endpoints: ["127.0.0.1:${appPort}"] }
`,
    );
    proc = startSidecar(["proxy", "-c", config]);
    await proc.waitFor("proxy listening", 20_000);

    for (const [flag, version] of [
      ["-tls1_2", "TLSv1.2"],
      ["-tls1_3", "TLSv1.3"],
    ] as const) {
      const run = sClient(openssl, port, [flag, "-servername", "localhost", "-alpn", "http/1.1"]);
      assert.ok(run.ok, run.text);
      assert.match(run.text, new RegExp(`Protocol version: ${version.replace(".", "\\.")}`));
      assert.match(run.text, /Peer certificate: CN ?= ?localhost/);
    }
    // -brief does not print the ALPN result; the full report does.
    const alpn = spawnSync(
      openssl,
      [
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-servername",
        "localhost",
        "-alpn",
        "http/1.1",
      ],
      { input: "", encoding: "utf8", timeout: 10_000 },
    );
    assert.match(alpn.stdout, /ALPN protocol: http\/1\.1/);
    const sni = sClient(openssl, port, ["-servername", "other.test"]);
    assert.match(sni.text, /Peer certificate: CN ?= ?other\.test/);
    for (const flag of ["-tls1", "-tls1_1"]) {
      // SECLEVEL=0 lets this client offer the old versions; the listener must refuse them.
      const run = sClient(openssl, port, [flag, "-cipher", "DEFAULT@SECLEVEL=0"]);
      assert.equal(run.ok, false, `${flag} was accepted:\n${run.text}`);
      assert.doesNotMatch(run.text, /Protocol version: TLSv1(\.1)?\s/);
    }

    const ca = await readFile(main.cert, "utf8");
    const curl = (path: string, headers: Record<string, string> = {}) =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, path, servername: "localhost", ca, headers, agent: false },
          (res) => {
            let text = `HTTP/1.1 ${res.statusCode}\n${JSON.stringify(res.headers)}\n`;
            res.on("data", (chunk: Buffer) => {
              text += chunk;
            });
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end();
      });
    assert.match(await curl("/healthz"), /^HTTP\/1\.1 200[\s\S]*app saw -/);
    const denied = await curl("/data");
    assert.match(denied, /^HTTP\/1\.1 401/);
    assert.ok(denied.includes('ApiKey realm=\\"sidecar\\", header=\\"x-api-key\\"'), denied);
    assert.match(
      await curl("/data", { "x-api-key": "e2e-s3cret-key" }),
      /^HTTP\/1\.1 200[\s\S]*app saw ci-bot/,
    );

    // Nothing secret on the admin port or in the log.
    for (const page of ["/", "/status", "/metrics"]) {
      const { body } = await httpGet(`http://127.0.0.1:${adminPort}${page}`);
      assert.doesNotMatch(body, /e2e-s3cret-key|PRIVATE KEY/, page);
    }
    assert.doesNotMatch(proc.stdout() + proc.stderr(), /e2e-s3cret-key|PRIVATE KEY/);
  } finally {
    await proc?.stop();
    app.close();
    await cleanup();
  }
});
