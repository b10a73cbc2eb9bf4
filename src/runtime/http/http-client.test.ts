import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { z } from "zod";
import { ErrorCodes } from "../error-codes.ts";
import { HttpClient, httpClientShape, redactUrl } from "./http-client.ts";
import { type TestCertificates, testCertificates } from "./test-certificates.testing.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let dir = "";
let certs: TestCertificates;
const servers: Server[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sidecar-http-client-"));
  certs = await testCertificates(dir, ["127.0.0.1", "config.internal"]);
});

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await rm(dir, { recursive: true, force: true });
});

/** Serves `handler` on loopback; counts the connections it accepted. */
async function serve(handler: Handler, server: Server = createHttpServer()) {
  let connections = 0;
  server.on("connection", () => {
    connections++;
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => handler(req, res, body));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { port, connections: () => connections };
}

function codeOf(code: string) {
  return (error: unknown) => {
    assert.equal((error as { code?: string }).code, code, String(error));
    return true;
  };
}

test("sends headers and a body, resolves any status, reuses one keep-alive connection", async () => {
  const seen: { method: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  const { port, connections } = await serve((req, res, body) => {
    seen.push({ method: req.method!, headers: req.headers, body });
    res.writeHead(seen.length === 1 ? 200 : 503, { "retry-after": "7" });
    res.end(`answer ${seen.length}`);
  });
  const client = new HttpClient(
    { headers: { "x-api-key": "k", "x-both": "client" } },
    { now: () => 0 },
  );
  try {
    const first = await client.request({
      url: `http://127.0.0.1:${port}/a`,
      method: "post",
      headers: { "x-both": "request" },
      body: "hello",
    });
    assert.equal(first.status, 200);
    assert.equal(first.text(), "answer 1");
    assert.equal(first.retryAfterMs, 7000);
    const second = await client.request({ url: `http://127.0.0.1:${port}/b` });
    assert.equal(second.status, 503);
    assert.deepEqual(second.body, Buffer.from("answer 2"));
    assert.equal(seen[0]!.method, "POST");
    assert.equal(seen[0]!.body, "hello");
    assert.equal(seen[0]!.headers["x-api-key"], "k");
    assert.equal(seen[0]!.headers["x-both"], "request");
    assert.equal(seen[1]!.method, "GET");
    assert.equal(connections(), 1);
  } finally {
    client.close();
  }
});

test("basic auth from options or URL userinfo; secrets appear in no error and no JSON", async () => {
  const authorizations: (string | undefined)[] = [];
  const { port } = await serve((req, res) => {
    authorizations.push(req.headers.authorization);
    res.end();
  });
  const client = new HttpClient({ auth: { type: "basic", user: "u", password: "hunter2" } });
  const fromUrl = new HttpClient({});
  try {
    await client.request({ url: `http://127.0.0.1:${port}/` });
    await fromUrl.request({ url: `http://me:s%40cret@127.0.0.1:${port}/` });
    assert.deepEqual(authorizations, [
      `Basic ${Buffer.from("u:hunter2").toString("base64")}`,
      `Basic ${Buffer.from("me:s@cret").toString("base64")}`,
    ]);
    assert.equal(JSON.stringify(client), "{}");
    await assert.rejects(
      fromUrl.request({ url: "http://me:s%40cret@127.0.0.1:1/x", timeoutSeconds: 5 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.HTTP_CONNECT);
        assert.doesNotMatch(error.message, /cret|me:/);
        assert.match(
          error.message,
          /^HTTP request to "http:\/\/127\.0\.0\.1:1\/x" failed: connect ECONNREFUSED/,
        );
        return true;
      },
    );
  } finally {
    client.close();
    fromUrl.close();
  }
});

test("a bearer token file is read on each request, so a rotated token is used", async () => {
  const authorizations: (string | undefined)[] = [];
  const { port } = await serve((req, res) => {
    authorizations.push(req.headers.authorization);
    res.end();
  });
  const tokenFile = join(dir, "token");
  await writeFile(tokenFile, "first\n");
  const client = new HttpClient({ auth: { type: "bearer", tokenFile } });
  const fixed = new HttpClient({ auth: { type: "bearer", token: "static" } });
  try {
    await client.request({ url: `http://127.0.0.1:${port}/` });
    await writeFile(tokenFile, "second");
    await client.request({ url: `http://127.0.0.1:${port}/` });
    await fixed.request({ url: `http://127.0.0.1:${port}/` });
    assert.deepEqual(authorizations, ["Bearer first", "Bearer second", "Bearer static"]);
    const missing = new HttpClient({ auth: { type: "bearer", tokenFile: join(dir, "nope") } });
    await assert.rejects(
      missing.request({ url: `http://127.0.0.1:${port}/` }),
      codeOf(ErrorCodes.HTTP_TOKEN_FILE),
    );
    missing.close();
  } finally {
    client.close();
    fixed.close();
  }
});

test("a server that does not answer in time fails with SIDECAR_ERR_HTTP_TIMEOUT", async () => {
  const { port } = await serve(() => {}); // never answers
  const client = new HttpClient({ timeoutSeconds: 60 });
  try {
    await assert.rejects(
      client.request({ url: `http://127.0.0.1:${port}/slow`, timeoutSeconds: 0.05 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.HTTP_TIMEOUT);
        assert.match(error.message, /timed out after 0\.05 s/);
        return true;
      },
    );
  } finally {
    client.close();
  }
});

test("a body over maxResponseBytes fails with SIDECAR_ERR_HTTP_TOO_LARGE, declared or streamed", async () => {
  const { port } = await serve((req, res) => {
    if (req.url === "/declared") res.writeHead(200, { "content-length": "2000" });
    else res.writeHead(200); // chunked: the size is known only while reading
    res.write("x".repeat(1000));
    res.end("y".repeat(1000));
  });
  const client = new HttpClient({ maxResponseBytes: 1500 });
  try {
    for (const path of ["/declared", "/streamed"])
      await assert.rejects(
        client.request({ url: `http://127.0.0.1:${port}${path}` }),
        codeOf(ErrorCodes.HTTP_TOO_LARGE),
      );
    const ok = await client.request({ url: `http://127.0.0.1:${port}/`, maxResponseBytes: 2000 });
    assert.equal(ok.body.length, 2000);
  } finally {
    client.close();
  }
});

test("an aborted signal rejects with its reason", async () => {
  const { port } = await serve(() => {});
  const client = new HttpClient({});
  try {
    const controller = new AbortController();
    const pending = client.request({ url: `http://127.0.0.1:${port}/`, signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    await assert.rejects(
      client.request({ url: `http://127.0.0.1:${port}/`, signal: controller.signal }),
      {
        name: "AbortError",
      },
    );
  } finally {
    client.close();
  }
});

async function serveTls(options: { requestCert?: boolean } = {}) {
  const clients: (string | undefined)[] = [];
  const server = createHttpsServer({
    key: certs.serverKey,
    cert: certs.serverCert,
    ca: certs.ca,
    requestCert: options.requestCert ?? false,
    rejectUnauthorized: options.requestCert ?? false,
  });
  const { port } = await serve((req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const cn = peer?.subject?.CN;
    clients.push(Array.isArray(cn) ? cn[0] : cn);
    res.end("secure");
  }, server);
  return { url: `https://127.0.0.1:${port}/`, clients };
}

test("HTTPS: trusts the CA file; an unknown CA fails with SIDECAR_ERR_HTTP_CONNECT unless insecureSkipVerify", async () => {
  const { url } = await serveTls();
  const trusting = new HttpClient({ tls: { caFile: certs.caFile } });
  const plain = new HttpClient({});
  const insecure = new HttpClient({ tls: { insecureSkipVerify: true } });
  try {
    assert.equal((await trusting.request({ url })).text(), "secure");
    await assert.rejects(plain.request({ url }), (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.HTTP_CONNECT);
      assert.match(error.message, /certificate/i);
      return true;
    });
    assert.equal((await insecure.request({ url })).status, 200);
  } finally {
    trusting.close();
    plain.close();
    insecure.close();
  }
});

test("HTTPS: serverName is sent as SNI and verified against the certificate", async () => {
  const { url } = await serveTls();
  const named = new HttpClient({ tls: { caFile: certs.caFile, serverName: "config.internal" } });
  const wrong = new HttpClient({ tls: { caFile: certs.caFile, serverName: "other.internal" } });
  try {
    assert.equal((await named.request({ url })).status, 200);
    await assert.rejects(wrong.request({ url }), (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.HTTP_CONNECT);
      assert.match(error.message, /other\.internal/);
      return true;
    });
  } finally {
    named.close();
    wrong.close();
  }
});

test("HTTPS: a client certificate passes a server that requires one", async () => {
  const { url, clients } = await serveTls({ requestCert: true });
  const withCert = new HttpClient({
    tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
  });
  const without = new HttpClient({ tls: { caFile: certs.caFile } });
  try {
    assert.equal((await withCert.request({ url })).status, 200);
    assert.deepEqual(clients, ["client"]);
    await assert.rejects(without.request({ url }), codeOf(ErrorCodes.HTTP_CONNECT));
  } finally {
    withCert.close();
    without.close();
  }
});

test("unreadable or invalid TLS files fail at construction with SIDECAR_ERR_HTTP_TLS_FILE", async () => {
  const garbage = join(dir, "garbage.pem");
  await writeFile(garbage, "not a certificate");
  for (const tls of [
    { caFile: join(dir, "missing.pem") },
    { certFile: certs.clientCertFile, keyFile: join(dir, "missing-key.pem") },
    { caFile: garbage },
    { certFile: certs.clientCertFile, keyFile: certs.serverKeyFile }, // key of another certificate
  ])
    assert.throws(() => new HttpClient({ tls }), codeOf(ErrorCodes.HTTP_TLS_FILE));
});

test("httpClientShape: defaults, and auth/tls combinations that make no sense are refused", () => {
  const schema = z.strictObject(httpClientShape);
  assert.deepEqual(schema.parse({}), {
    headers: {},
    timeoutSeconds: 10,
    maxResponseBytes: 1048576,
  });
  const parsed = schema.parse({
    auth: { type: "bearer", tokenFile: "/t" },
    tls: { caFile: "/ca" },
  });
  assert.deepEqual(parsed.tls, { caFile: "/ca", insecureSkipVerify: false });
  // A role hands its parsed section to the client as it is.
  new HttpClient(schema.parse({ auth: { type: "basic", user: "u", password: "p" } })).close();
  for (const bad of [
    { auth: { type: "bearer" } },
    { auth: { type: "bearer", token: "a", tokenFile: "/t" } },
    { auth: { type: "digest" } },
    { tls: { certFile: "/c" } },
  ])
    assert.equal(schema.safeParse(bad).success, false, JSON.stringify(bad));
});

test("redactUrl hides userinfo and leaves other URLs alone", () => {
  assert.equal(redactUrl("https://user:secret@es:9200/_bulk?x=1"), "https://***@es:9200/_bulk?x=1");
  assert.equal(redactUrl("http://token@host/"), "http://***@host/");
  assert.equal(redactUrl("http://host:80/path"), "http://host/path");
  assert.equal(redactUrl("http://a:b@[bad/x"), "http://***@[bad/x");
  assert.equal(redactUrl("plain"), "plain");
});
