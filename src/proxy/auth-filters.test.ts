import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { captureLogger, freePort, until } from "../runtime/testing.ts";
import { httpUpstream, rawRequest, startProxy, type TestProxy, type Upstream } from "./testing.ts";

const API_KEY = "k3y-for-ci-bot-0123456789";
const READER_KEY = "k3y-for-reader-9876543210";

describe("authentication and authorization filters through the proxy", () => {
  let app: Upstream;
  let jwks: ReturnType<typeof createServer>;
  let auth: ReturnType<typeof createServer>;
  let proxy: TestProxy;
  let dir: string;
  let signer: Awaited<ReturnType<typeof generateKeyPair>>;
  const seen: IncomingHttpHeaders[] = [];
  const log = captureLogger();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sidecar-auth-"));
    await writeFile(join(dir, "keys.yaml"), `ci-bot: ${API_KEY}\nreader: ${READER_KEY}\n`);
    app = await httpUpstream((req, res) => {
      seen.push(req.headers);
      res.end(`app ${req.url}`);
    });
    signer = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(signer.publicKey)), kid: "k1", alg: "ES256" };
    jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
    jwks.listen(0, "127.0.0.1");
    auth = createServer((req, res) => {
      if (req.headers.cookie === "session=good")
        res.writeHead(200, { "x-auth-request-user": "carol" }).end();
      else if (req.headers.cookie === "session=boom") res.writeHead(500).end();
      else res.writeHead(401, { "www-authenticate": 'Cookie realm="login"' }).end();
    });
    auth.listen(0, "127.0.0.1");
    await Promise.all([once(jwks, "listening"), once(auth, "listening")]);
    const port = (s: ReturnType<typeof createServer>) => (s.address() as { port: number }).port;
    const apiKey = {
      type: "api-key",
      keys: { file: join(dir, "keys.yaml") },
      failedAttempts: { burst: 50, perMinute: 60 },
    } as const;
    proxy = await startProxy(
      {
        listeners: [
          {
            address: "127.0.0.1:0",
            routes: [
              { name: "health", match: { path: "/healthz" }, cluster: "app" },
              {
                name: "admin",
                match: { prefix: "/api/admin" },
                cluster: "app",
                filters: [apiKey, { type: "authz", rules: [{ keyIds: ["ci-bot"] }] }],
              },
              { name: "api", match: { prefix: "/api" }, cluster: "app", filters: [apiKey] },
              {
                name: "query",
                match: { prefix: "/q" },
                cluster: "app",
                filters: [{ ...apiKey, queryParam: "api_key" }],
              },
              {
                name: "orders",
                match: { prefix: "/orders" },
                cluster: "app",
                filters: [
                  {
                    type: "jwt",
                    jwksUrl: `http://127.0.0.1:${port(jwks)}/jwks`,
                    issuer: "https://idp.test",
                    audience: "orders",
                    algorithms: ["ES256"],
                    claimHeaders: { "x-auth-email": "email" },
                  },
                  { type: "authz", rules: [{ scopes: ["orders:read"] }] },
                ],
              },
              {
                name: "portal",
                match: { prefix: "/portal" },
                cluster: "app",
                filters: [
                  {
                    type: "forward-auth",
                    url: `http://127.0.0.1:${port(auth)}/check`,
                    requestHeaders: ["cookie"],
                    upstreamHeaders: ["x-auth-request-user"],
                    subjectFrom: "x-auth-request-user",
                  },
                ],
              },
              {
                name: "portal-down",
                match: { prefix: "/down" },
                cluster: "app",
                filters: [
                  {
                    type: "forward-auth",
                    url: `http://127.0.0.1:${await freePort()}/check`,
                  },
                ],
              },
              { name: "public", match: { prefix: "/" }, cluster: "app" },
            ],
          },
          {
            name: "throttled",
            address: "127.0.0.1:0",
            routes: [
              {
                cluster: "app",
                filters: [{ ...apiKey, failedAttempts: { burst: 3, perMinute: 1 } }],
              },
            ],
          },
        ],
        clusters: { app: { endpoints: [`127.0.0.1:${app.port}`] } },
        accessLog: { enabled: true, path: join(dir, "access.log") },
      },
      { logger: log.logger },
    );
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    jwks.close();
    auth.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}, port = proxy.port) =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers });
  const token = (claims: Record<string, unknown> = {}) =>
    new SignJWT({
      sub: "alice",
      email: "alice@example.com",
      scope: "orders:read",
      iss: "https://idp.test",
      aud: "orders",
      exp: Math.floor(Date.now() / 1000) + 300,
      ...claims,
    })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .sign(signer.privateKey);

  test("public routes need nothing; a protected one without a key is 401 with WWW-Authenticate and a JSON reply", async () => {
    assert.equal((await get("/healthz")).status, 200);
    const res = await get("/api/things");
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'ApiKey realm="sidecar", header="x-api-key"');
    assert.equal(res.headers.get("x-sidecar-error"), "UAEX");
    assert.equal(
      ((await res.json()) as { code: string }).code,
      "SIDECAR_ERR_PROXY_UNAUTHENTICATED",
    );
    assert.equal((await get("/api/things", { "x-api-key": "wrong" })).status, 401);
  });

  test("a good API key passes; the app sees its id, never the key", async () => {
    const res = await get("/api/things", { "x-api-key": API_KEY });
    assert.equal(res.status, 200);
    const headers = seen.at(-1)!;
    assert.equal(headers["x-auth-subject"], "ci-bot");
    assert.equal(headers["x-api-key"], undefined);
  });

  test("a key in the query parameter (when enabled) is taken out of the URL the app sees", async () => {
    const res = await get(`/q/x?a=1&api_key=${API_KEY}&b=2`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "app /q/x?a=1&b=2");
    assert.equal((await get("/q/x?api_key=wrong")).status, 401);
    assert.equal((await get(`/q/x?api_key=${API_KEY}&api_key=${API_KEY}`)).status, 401);
    assert.equal((await get(`/q/x?api_key=${API_KEY}`, { "x-api-key": API_KEY })).status, 401);
    // Off unless configured (a key sent there is not taken for one).
    const reader = await get(`/api/x?api_key=${READER_KEY.replace("k3y", "key")}`);
    assert.equal(reader.status, 401);
  });

  test("authz: a key not in the route's rules is 403; path tricks still reach the protected route", async () => {
    assert.equal((await get("/api/admin/x", { "x-api-key": API_KEY })).status, 200);
    const forbidden = await get("/api/admin/x", { "x-api-key": READER_KEY });
    assert.equal(forbidden.status, 403);
    assert.equal(
      ((await forbidden.json()) as { code: string }).code,
      "SIDECAR_ERR_PROXY_FORBIDDEN",
    );
    for (const target of [
      "/x/../api/admin/x",
      "//api/admin",
      "/%61pi/admin",
      "/API/Admin;x",
      "/api/%2e/admin",
    ]) {
      const res = await rawRequest(
        proxy.port,
        `GET ${target} HTTP/1.1\r\nHost: svc\r\nx-api-key: ${READER_KEY}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 403, target);
    }
    const slash = await rawRequest(
      proxy.port,
      "GET /x%2F..%2Fapi/admin HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    assert.equal(slash.status, 400);
  });

  test("header spoofing: a client's identity headers never reach the app, on any route", async () => {
    await get("/healthz", {
      "x-auth-subject": "admin",
      "x-auth-email": "root@example.com",
      "x-forwarded-client-cert": "Hash=1",
      "x-auth-request-user": "admin",
    });
    const raw = await rawRequest(
      proxy.port,
      "GET /api/x HTTP/1.1\r\nHost: svc\r\nX_Auth_Subject: admin\r\nx-api-key: " +
        `${API_KEY}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(raw.status, 200);
    const [publicHeaders, apiHeaders] = seen.slice(-2);
    for (const name of [
      "x-auth-subject",
      "x-auth-email",
      "x-forwarded-client-cert",
      "x-auth-request-user",
    ])
      assert.equal(publicHeaders![name], undefined, name);
    assert.equal(apiHeaders!.x_auth_subject, undefined);
    assert.equal(apiHeaders!["x-auth-subject"], "ci-bot");
  });

  test("JWT: a valid token passes with sub and mapped claims; scopes are authorized; failures are RFC 6750 401s", async () => {
    const ok = await get("/orders/1", { authorization: `Bearer ${await token()}` });
    assert.equal(ok.status, 200);
    const headers = seen.at(-1)!;
    assert.equal(headers["x-auth-subject"], "alice");
    assert.equal(headers["x-auth-email"], "alice@example.com");
    assert.equal(headers.authorization, undefined, "the token is not passed on");

    const missing = await get("/orders/1");
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="sidecar"');
    const expired = await get("/orders/1", {
      authorization: `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 3600 })}`,
    });
    assert.equal(expired.status, 401);
    assert.equal(
      expired.headers.get("www-authenticate"),
      'Bearer realm="sidecar", error="invalid_token", error_description="the token has expired"',
    );
    const noScope = await get("/orders/1", {
      authorization: `Bearer ${await token({ scope: "profile" })}`,
    });
    assert.equal(noScope.status, 403);
  });

  test("forward auth: allowed with the service's identity headers; its 401 passes; down → 503 (fail closed)", async () => {
    const ok = await get("/portal/home", { cookie: "session=good", authorization: "Basic eDp5" });
    assert.equal(ok.status, 200);
    assert.equal(seen.at(-1)!.authorization, undefined, "the credential stops here");
    assert.equal(seen.at(-1)!.cookie, "session=good", "cookies pass: the app's own travel with it");
    assert.equal(seen.at(-1)!["x-auth-request-user"], "carol");
    assert.equal(seen.at(-1)!["x-auth-subject"], "carol");
    const denied = await get("/portal/home", { cookie: "session=bad" });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Cookie realm="login"');
    assert.equal((await get("/portal/home", { cookie: "session=boom" })).status, 503);
    const down = await get("/down/x");
    assert.equal(down.status, 503);
    assert.equal(
      ((await down.json()) as { code: string }).code,
      "SIDECAR_ERR_PROXY_AUTH_SERVICE_UNAVAILABLE",
    );
  });

  test("failed attempts are limited per client: past the burst even a good key gets 429", async () => {
    const port = proxy.ports[1]!;
    for (let i = 0; i < 3; i++)
      assert.equal((await get("/x", { "x-api-key": "guess" }, port)).status, 401);
    const throttled = await get("/x", { "x-api-key": API_KEY }, port);
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get("retry-after")) >= 1);
  });

  test("no secret in logs or metrics: key ids and reasons only", async () => {
    const logs = JSON.stringify(log.lines());
    assert.match(logs, /"reason":"unknown_key"/);
    assert.match(logs, /"reason":"expired"/);
    const metrics = await proxy.registry.metrics();
    await until(
      async () => (await readFile(join(dir, "access.log"), "utf8")).includes("/q/x"),
      "the access log is written",
    );
    const accessLog = await readFile(join(dir, "access.log"), "utf8");
    assert.match(accessLog, /"\/q\/x\?a=1&b=2"|\/q\/x\?a=1&b=2/);
    assert.match(
      metrics,
      /sidecar_proxy_auth_denied_total\{listener="ingress",filter="api-key",reason="missing"\} \d/,
    );
    for (const text of [logs, metrics, accessLog]) {
      assert.doesNotMatch(text, new RegExp(API_KEY));
      assert.doesNotMatch(text, new RegExp(READER_KEY));
      assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10}/, "no JWT");
      assert.doesNotMatch(text, /session=good/);
    }
  });
});
