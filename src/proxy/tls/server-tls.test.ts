import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect, type TLSSocket } from "node:tls";
import { https } from "../../runtime/builtins.ts";
import { writeKubernetesVolume } from "../../runtime/files/kubernetes-volume.testing.ts";
import { captureLogger, until } from "../../runtime/testing.ts";
import { formatXfcc, isAllowed, peerIdentity } from "./client-identity.ts";
import { ServerTls } from "./server-tls.ts";
import { testCa, testLeaf } from "./test-pki.testing.ts";
import { listenerTlsSchema } from "./tls-config.ts";

interface Served {
  port: number;
  tls: ServerTls;
  close(): Promise<void>;
}

async function serve(
  config: unknown,
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end("ok"),
): Promise<Served> {
  const tls = new ServerTls(listenerTlsSchema.parse(config), {
    logger: captureLogger().logger,
    watch: { debounceMs: 10, pollIntervalMs: 50 },
  });
  const server = https.createServer(tls.serverOptions(), handler);
  tls.attach(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as { port: number }).port,
    tls,
    close: async () => {
      tls.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A raw TLS connection; resolves once the handshake is done (or rejects with its error). */
async function handshake(
  port: number,
  options: { servername?: string; ca?: string; cert?: string; key?: string; minVersion?: "TLSv1" },
): Promise<TLSSocket> {
  const socket = connect({ port, host: "127.0.0.1", rejectUnauthorized: false, ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => {
      peers.set(socket, socket.getPeerX509Certificate()!);
      resolve();
    });
    socket.once("error", reject);
  });
  return socket;
}

/** Sends a keep-alive GET on an open TLS socket and reads one small response. */
async function get(socket: TLSSocket, path = "/"): Promise<string> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  const [chunk] = (await once(socket, "data")) as [Buffer];
  return chunk.toString();
}

/**
 * What the server answers to one GET on a new connection; "" when the handshake or the
 * connection fails (with TLS 1.3 the client learns of a refused certificate only on reading).
 */
async function answer(port: number, options: { cert?: string; key?: string }): Promise<string> {
  const socket = connect({ port, host: "127.0.0.1", rejectUnauthorized: false, ...options });
  let received = "";
  socket.on("secureConnect", () =>
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
  );
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("close", resolve));
  return received;
}

const peers = new WeakMap<TLSSocket, X509Certificate>();
/** The server certificate, read at the handshake (Node may drop it after a session ticket). */
const peer = (socket: TLSSocket) => peers.get(socket)!;
const fingerprint = (socket: TLSSocket) => peer(socket).fingerprint256;

test("serves ALPN http/1.1 with TLS 1.2 and 1.3; refuses TLS 1.0 and 1.1", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await testCa();
  const leaf = await testLeaf(ca, "localhost", { dns: ["localhost"] });
  await writeFile(join(dir, "tls.crt"), leaf.cert);
  await writeFile(join(dir, "tls.key"), leaf.key);
  const served = await serve({ certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") });
  t.after(() => served.close());
  for (const version of ["TLSv1.2", "TLSv1.3"] as const) {
    const socket = connect({
      port: served.port,
      host: "127.0.0.1",
      ca: ca.cert,
      servername: "localhost",
      minVersion: version,
      maxVersion: version,
      ALPNProtocols: ["http/1.1"],
    });
    await once(socket, "secureConnect");
    assert.equal(socket.getProtocol(), version);
    assert.equal(socket.alpnProtocol, "http/1.1");
    assert.match(await get(socket), /^HTTP\/1.1 200/);
    socket.destroy();
  }
  for (const version of ["TLSv1", "TLSv1.1"] as const) {
    const socket = connect({
      port: served.port,
      host: "127.0.0.1",
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      ciphers: "DEFAULT@SECLEVEL=0",
    });
    const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    assert.match(String(error.code ?? error.message), /VERSION|PROTOCOL|ALERT/i);
  }
});

test("rotating the Secret (a ..data swap) serves the new certificate while an open keep-alive connection goes on", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await testCa();
  const first = await testLeaf(ca, "localhost", { dns: ["localhost"] });
  const second = await testLeaf(ca, "localhost", { dns: ["localhost"] });
  await writeKubernetesVolume(dir, { "tls.crt": first.cert, "tls.key": first.key });
  const served = await serve({ certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") });
  t.after(() => served.close());

  const open = await handshake(served.port, { servername: "localhost" });
  assert.match(await get(open), /200/);
  const before = fingerprint(open);
  await writeKubernetesVolume(dir, { "tls.crt": second.cert, "tls.key": second.key });
  await until(async () => {
    const fresh = await handshake(served.port, { servername: "localhost" });
    const changed = fingerprint(fresh) !== before;
    fresh.destroy();
    return changed;
  }, "a new handshake gets the rotated certificate");
  // The connection opened before the swap was never dropped and still answers.
  assert.match(await get(open), /200/);
  assert.equal(fingerprint(open), before);
  open.destroy();

  // A broken update (a key that does not match) keeps the last good certificate.
  const third = await testLeaf(ca, "localhost", { dns: ["localhost"] });
  await writeKubernetesVolume(dir, { "tls.crt": third.cert, "tls.key": first.key });
  assert.equal(served.tls.reload(), false);
  const after = await handshake(served.port, { servername: "localhost" });
  assert.equal(fingerprint(after), new X509Certificate(second.cert).fingerprint256);
  after.destroy();
});

test("SNI picks the certificate by name (configured names or the SANs); no match gets the first", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await testCa();
  const certs = {
    a: await testLeaf(ca, "a.example.com", { dns: ["a.example.com"] }),
    wild: await testLeaf(ca, "wild", { dns: ["*.shop.example"] }),
    named: await testLeaf(ca, "named"),
  };
  for (const [name, leaf] of Object.entries(certs)) {
    await writeFile(join(dir, `${name}.crt`), leaf.cert);
    await writeFile(join(dir, `${name}.key`), leaf.key);
  }
  const entry = (name: string, extra = {}) => ({
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
    ...extra,
  });
  const served = await serve({
    certificates: [entry("a"), entry("wild"), entry("named", { serverNames: ["api.internal"] })],
  });
  t.after(() => served.close());
  const subjectFor = async (servername?: string) => {
    const socket = await handshake(served.port, servername ? { servername } : {});
    const cn = peer(socket).subject;
    socket.destroy();
    return cn;
  };
  assert.equal(await subjectFor("a.example.com"), "CN=a.example.com");
  assert.equal(await subjectFor("WWW.Shop.Example"), "CN=wild");
  assert.equal(await subjectFor("deep.www.shop.example"), "CN=a.example.com");
  assert.equal(await subjectFor("api.internal"), "CN=named");
  assert.equal(await subjectFor("other.test"), "CN=a.example.com");
  assert.equal(await subjectFor(), "CN=a.example.com");
});

test("mTLS: required client certificates from the CA; identity, allow-lists by CN, DNS and SPIFFE URI; XFCC", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await testCa();
  const otherCa = await testCa("someone else");
  const server = await testLeaf(ca, "api", {
    dns: ["localhost"],
    uris: ["spiffe://cluster.local/ns/prod/sa/api"],
  });
  const web = await testLeaf(ca, "web", {
    usage: "client",
    dns: ["web.prod.svc"],
    uris: ["spiffe://cluster.local/ns/prod/sa/web"],
  });
  const stranger = await testLeaf(otherCa, "web", { usage: "client" });
  await writeFile(join(dir, "tls.crt"), server.cert);
  await writeFile(join(dir, "tls.key"), server.key);
  await writeFile(join(dir, "ca.crt"), ca.cert);
  const identities: string[] = [];
  const served = await serve(
    {
      certFile: join(dir, "tls.crt"),
      keyFile: join(dir, "tls.key"),
      clientAuth: { caFile: join(dir, "ca.crt") },
    },
    (req, res) => {
      const identity = peerIdentity(req.socket as TLSSocket);
      identities.push(identity ? formatXfcc(identity, served.tls.serverUri) : "none");
      res.end("ok");
    },
  );
  t.after(() => served.close());

  const ok = await handshake(served.port, { cert: web.cert, key: web.key });
  assert.match(await get(ok), /200/);
  ok.destroy();
  const hash = new X509Certificate(web.cert).fingerprint256.replaceAll(":", "").toLowerCase();
  assert.deepEqual(identities, [
    `By=spiffe://cluster.local/ns/prod/sa/api;Hash=${hash};Subject="CN=web";URI=spiffe://cluster.local/ns/prod/sa/web;DNS=web.prod.svc`,
  ]);

  // No certificate, or one from another CA: the handshake fails; the app sees nothing.
  for (const options of [{}, { cert: stranger.cert, key: stranger.key }])
    assert.equal(await answer(served.port, options), "", JSON.stringify(Object.keys(options)));
  assert.equal(identities.length, 1);

  // The CA bundle reloads like the certificate: now only the other CA's clients get in.
  await writeFile(join(dir, "ca.crt"), otherCa.cert);
  assert.equal(served.tls.reload(), true);
  assert.match(await answer(served.port, stranger), /^HTTP\/1.1 200/);
  assert.equal(await answer(served.port, web), "");
});

test("mTLS optional: a client without a certificate gets in without an identity", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await testCa();
  const server = await testLeaf(ca, "api", { dns: ["localhost"] });
  const web = await testLeaf(ca, "web", { usage: "client" });
  const stranger = await testLeaf(await testCa("other"), "web", { usage: "client" });
  await writeFile(join(dir, "tls.crt"), server.cert);
  await writeFile(join(dir, "tls.key"), server.key);
  await writeFile(join(dir, "ca.crt"), ca.cert);
  const served = await serve(
    {
      certFile: join(dir, "tls.crt"),
      keyFile: join(dir, "tls.key"),
      clientAuth: { mode: "optional", caFile: join(dir, "ca.crt") },
    },
    (req, res) => res.end(peerIdentity(req.socket as TLSSocket)?.subject ?? "anonymous"),
  );
  t.after(() => served.close());
  assert.match(await answer(served.port, {}), /anonymous$/);
  assert.match(await answer(served.port, web), /CN=web$/);
  // An unverified certificate is no identity (the listener answers it 403: a client that
  // presents a certificate means to be someone).
  assert.match(await answer(served.port, stranger), /anonymous$/);
});

test("allow-lists accept any matching entry: CN, DNS name, URI with a trailing *", () => {
  const identity = {
    subject: "CN=web,O=Acme",
    commonName: "web",
    dnsNames: ["web.prod.svc"],
    uris: ["spiffe://cluster.local/ns/prod/sa/web"],
    hash: "00",
  };
  assert.equal(isAllowed(identity, undefined), true);
  assert.equal(isAllowed(identity, { subjects: ["web"] }), true);
  assert.equal(isAllowed(identity, { subjects: ["api"] }), false);
  assert.equal(isAllowed(identity, { dnsNames: ["web.prod.svc"] }), true);
  assert.equal(isAllowed(identity, { uris: ["spiffe://cluster.local/ns/prod/*"] }), true);
  assert.equal(isAllowed(identity, { uris: ["spiffe://cluster.local/ns/dev/*"] }), false);
  assert.equal(
    isAllowed(identity, { subjects: ["api"], uris: ["spiffe://cluster.local/ns/prod/sa/web"] }),
    true,
  );
});

test("a missing or mismatched file fails at load with SIDECAR_ERR_PROXY_TLS_FILE", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await testCa();
  const a = await testLeaf(ca, "a");
  const b = await testLeaf(ca, "b");
  await writeFile(join(dir, "a.crt"), a.cert);
  await writeFile(join(dir, "b.key"), b.key);
  const load = (certFile: string, keyFile: string) => () =>
    new ServerTls(listenerTlsSchema.parse({ certFile, keyFile }), {
      logger: captureLogger().logger,
    });
  assert.throws(load(join(dir, "a.crt"), join(dir, "none.key")), {
    code: "SIDECAR_ERR_PROXY_TLS_FILE",
    message: /Cannot read TLS key ".*none\.key"/,
  });
  assert.throws(load(join(dir, "a.crt"), join(dir, "b.key")), {
    code: "SIDECAR_ERR_PROXY_TLS_FILE",
    message: /Cannot use TLS certificate/,
  });
});
