import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, type TLSSocket } from "node:tls";
import { https } from "../runtime/builtins.ts";
import { writeKubernetesVolume } from "../runtime/files/kubernetes-volume.testing.ts";
import { captureLogger, freePort, until } from "../runtime/testing.ts";
import { proxyPanel } from "./proxy-panel.ts";
import {
  header,
  httpUpstream,
  RawClient,
  rawRequest,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";
import { type TestCa, type TestLeaf, testCa, testLeaf } from "./tls/test-pki.testing.ts";

/** A TLS connection with a client certificate, and the server certificate seen at its handshake. */
async function handshake(
  port: number,
  ca: TestCa,
  client: TestLeaf,
): Promise<{ socket: TLSSocket; fingerprint: string }> {
  const socket = connect({
    port,
    host: "127.0.0.1",
    servername: "localhost",
    ca: ca.cert,
    cert: client.cert,
    key: client.key,
  });
  await once(socket, "secureConnect");
  return { socket, fingerprint: socket.getPeerX509Certificate()!.fingerprint256 };
}

/** One keep-alive GET on an open connection; the response's first chunk. */
async function get(socket: TLSSocket, path: string): Promise<string> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  const [chunk] = (await once(socket, "data")) as [Buffer];
  return chunk.toString();
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request on a fresh connection, trusting `ca`. */
function request(
  port: number,
  path: string,
  options: {
    ca: string;
    client?: TestLeaf;
    headers?: Record<string, string>;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path,
        servername: "localhost",
        ca: options.ca,
        ...(options.client ? { cert: options.client.cert, key: options.client.key } : {}),
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = "";
        const _fingerprint =
          (res.socket as import("node:tls").TLSSocket).getPeerX509Certificate()?.fingerprint256 ??
          "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("a TLS listener", () => {
  let dir: string;
  let ca: TestCa;
  let web: TestLeaf;
  let batch: TestLeaf;
  let app: Upstream;
  let proxy: TestProxy;
  let redirectPort: number;
  const seen: IncomingHttpHeaders[] = [];
  const log = captureLogger();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sidecar-tls-listener-"));
    ca = await testCa();
    const server = await testLeaf(ca, "api", {
      dns: ["localhost"],
      uris: ["spiffe://cluster.local/ns/prod/sa/api"],
    });
    web = await testLeaf(ca, "web", {
      usage: "client",
      uris: ["spiffe://cluster.local/ns/prod/sa/web"],
    });
    batch = await testLeaf(ca, "batch", {
      usage: "client",
      uris: ["spiffe://cluster.local/ns/jobs/sa/batch"],
    });
    await writeKubernetesVolume(join(dir, "tls"), {
      "tls.crt": server.cert,
      "tls.key": server.key,
      "ca.crt": ca.cert,
    });
    app = await httpUpstream((req, res) => {
      seen.push(req.headers);
      res.end(`app ${req.url}`);
    });
    redirectPort = await freePort();
    proxy = await startProxy(
      {
        listeners: [
          {
            address: "127.0.0.1:0",
            tls: {
              certFile: join(dir, "tls", "tls.crt"),
              keyFile: join(dir, "tls", "tls.key"),
              clientAuth: {
                mode: "optional",
                caFile: join(dir, "tls", "ca.crt"),
                allow: { uris: ["spiffe://cluster.local/ns/prod/*"] },
              },
              redirectHttp: { address: `127.0.0.1:${redirectPort}` },
            },
            routes: [
              {
                match: { prefix: "/internal" },
                cluster: "app",
                filters: [
                  {
                    type: "authz",
                    rules: [
                      {
                        methods: ["client-cert"],
                        subjects: ["spiffe://cluster.local/ns/prod/sa/web"],
                      },
                    ],
                  },
                ],
              },
              { cluster: "app" },
            ],
          },
        ],
        clusters: { app: { endpoints: [`127.0.0.1:${app.port}`] } },
      },
      { logger: log.logger },
    );
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a verified client on the allow-list gets through; the app gets XFCC and X-Forwarded-Proto https", async () => {
    const res = await request(proxy.port, "/x", {
      ca: ca.cert,
      client: web,
      headers: { "x-forwarded-client-cert": "Hash=forged", "x-forwarded-proto": "http" },
    });
    assert.equal(res.status, 200);
    const headers = seen.at(-1)!;
    assert.equal(headers["x-forwarded-proto"], "https");
    assert.match(
      headers["x-forwarded-client-cert"] as string,
      /^By=spiffe:\/\/cluster\.local\/ns\/prod\/sa\/api;Hash=[0-9a-f]{64};Subject="CN=web";URI=spiffe:\/\/cluster\.local\/ns\/prod\/sa\/web$/,
    );
    // authz on the certificate's SPIFFE ID
    assert.equal(
      (await request(proxy.port, "/internal/x", { ca: ca.cert, client: web })).status,
      200,
    );
  });

  test("optional mode: no certificate gets in without XFCC (a forged one removed) but not past authz; one off the allow-list gets 403", async () => {
    const anonymous = await request(proxy.port, "/x", {
      ca: ca.cert,
      headers: { X_Forwarded_Client_Cert: "Hash=forged" },
    });
    assert.equal(anonymous.status, 200);
    assert.equal(seen.at(-1)!["x-forwarded-client-cert"], undefined);
    assert.equal(seen.at(-1)!.x_forwarded_client_cert, undefined);
    assert.equal((await request(proxy.port, "/internal/x", { ca: ca.cert })).status, 403);
    const refused = await request(proxy.port, "/x", { ca: ca.cert, client: batch });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers["x-sidecar-error"], "CC");
    assert.equal(JSON.parse(refused.body).code, "SIDECAR_ERR_PROXY_CLIENT_CERT_REFUSED");
  });

  test("a chunked request mid-connection goes to node:http with the connection's client identity", async () => {
    const { socket } = await handshake(proxy.port, ca, web);
    const client = new RawClient(socket);
    client.write(
      "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /b HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    for (const path of ["/a", "/b", "/c"]) {
      const res = await client.read();
      assert.equal(res.body.toString(), `app ${path}`);
      assert.match(seen.at(-1)!["x-forwarded-client-cert"] as string, /URI=spiffe:.*\/sa\/web$/);
      assert.equal(seen.at(-1)!["x-forwarded-proto"], "https");
    }
    client.close();
  });

  test("the plain redirect listener answers 308 to the same URL over HTTPS", async () => {
    const res = await rawRequest(
      redirectPort,
      "GET /a/b?c=1 HTTP/1.1\r\nHost: shop.example:8080\r\nConnection: close\r\n\r\n",
    );
    assert.equal(res.status, 308);
    assert.equal(header(res, "location"), `https://shop.example:${proxy.port}/a/b?c=1`);
  });

  test("a rotated certificate is served to new connections while a keep-alive one goes on", async () => {
    const open = await handshake(proxy.port, ca, web);
    assert.match(await get(open.socket, "/ka"), /^HTTP\/1.1 200/);
    const next = await testLeaf(ca, "api", { dns: ["localhost"] });
    await writeKubernetesVolume(join(dir, "tls"), {
      "tls.crt": next.cert,
      "tls.key": next.key,
      "ca.crt": ca.cert,
    });
    await until(async () => {
      const fresh = await handshake(proxy.port, ca, web);
      fresh.socket.destroy();
      return fresh.fingerprint !== open.fingerprint;
    }, "new connections get the rotated certificate");
    // The connection opened before the rotation was never dropped.
    assert.match(await get(open.socket, "/ka"), /^HTTP\/1.1 200/);
    open.socket.destroy();
    const metrics = await proxy.registry.metrics();
    assert.match(
      metrics,
      /sidecar_proxy_tls_reloads_total\{listener="ingress",result="ok"\} [1-9]/,
    );
    assert.match(
      metrics,
      /sidecar_proxy_tls_certificate_expiry_timestamp_seconds\{listener="ingress",certificate=".*tls\.crt"\} \d+/,
    );
  });

  test("the status panel shows the certificate's remaining days; no key material in logs, metrics or panel", async () => {
    const figures = await proxyPanel(proxy.registry, ["ingress"]).figures();
    const expires = figures.find((f) => f.label === "ingress: certificate expires in");
    assert.match(expires?.value ?? "", /^3\d\d d$/, JSON.stringify(figures));
    assert.equal(expires?.warn, false);
    assert.ok(
      figures.some((f) => f.label === "ingress: auth refused"),
      "the 403s of authz and CC",
    );
    const text =
      JSON.stringify(log.lines()) + (await proxy.registry.metrics()) + JSON.stringify(figures);
    assert.doesNotMatch(text, /PRIVATE KEY|BEGIN CERTIFICATE/);
  });
});
