import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { https } from "../runtime/builtins.ts";
import {
  type TestCertificates,
  testCertificates,
} from "../runtime/http/test-certificates.testing.ts";
import { header, rawRequest, startProxy, type TestProxy } from "./testing.ts";

describe("TLS to upstream clusters", () => {
  let dir: string;
  let certs: TestCertificates;
  let app: ReturnType<typeof https.createServer>;
  let port: number;
  let proxy: TestProxy;
  const seen: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sidecar-upstream-tls-"));
    certs = await testCertificates(dir, ["localhost", "127.0.0.1"]);
    app = https.createServer(
      {
        cert: certs.serverCert,
        key: certs.serverKey,
        ca: certs.ca,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seen.push(`${req.method} ${req.url} client=${peer?.subject?.CN ?? "-"}`);
        req.resume();
        req.on("end", () => res.end("secure app"));
      },
    );
    app.listen(0, "127.0.0.1");
    await once(app, "listening");
    port = (app.address() as { port: number }).port;
    const endpoints = [`127.0.0.1:${port}`];
    proxy = await startProxy({
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [
            { match: { prefix: "/unverified" }, cluster: "untrusted", retries: { maxRetries: 0 } },
            { match: { prefix: "/wrong-name" }, cluster: "wrongName", retries: { maxRetries: 0 } },
            { cluster: "secure" },
          ],
        },
      ],
      clusters: {
        secure: {
          endpoints,
          tls: {
            caFile: certs.caFile,
            certFile: certs.clientCertFile,
            keyFile: certs.clientKeyFile,
          },
          healthCheck: { path: "/healthz", intervalSeconds: 0.05 },
        },
        untrusted: { endpoints, tls: {} },
        wrongName: { endpoints, tls: { caFile: certs.caFile, serverName: "other.test" } },
      },
    });
  });
  after(async () => {
    await proxy.stop();
    app.closeAllConnections();
    app.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("requests reach the app over verified TLS with the client certificate, on both transports", async () => {
    const get = await rawRequest(
      proxy.port,
      "GET /a HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), "secure app");
    const chunked = await rawRequest(
      proxy.port,
      "POST /b HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert.equal(chunked.status, 200);
    assert.ok(seen.includes("GET /a client=client"), seen.join("\n"));
    assert.ok(seen.includes("POST /b client=client"), seen.join("\n"));
    assert.ok(
      seen.some((line) => line.startsWith("GET /healthz client=client")),
      "health checks use TLS too",
    );
  });

  test("verification is on by default: an unknown CA or a wrong server name is a 502", async () => {
    for (const path of ["/unverified", "/wrong-name"]) {
      const res = await rawRequest(
        proxy.port,
        `GET ${path} HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 502, path);
      assert.ok(header(res, "x-sidecar-error"), path);
    }
    assert.ok(!seen.some((line) => line.includes("/unverified") || line.includes("/wrong-name")));
  });
});
