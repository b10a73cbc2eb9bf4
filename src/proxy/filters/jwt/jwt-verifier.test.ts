import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { HttpClient } from "../../../runtime/http/http-client.ts";
import { captureLogger, until } from "../../../runtime/testing.ts";
import { JwksKeys } from "./jwks-keys.ts";
import { type JwtRules, verifyJwt } from "./jwt-verifier.ts";

const rules: JwtRules = {
  issuers: ["https://idp.test"],
  audiences: ["orders"],
  algorithms: ["RS256", "ES256"],
  clockSkewSeconds: 30,
  requiredClaims: ["exp"],
  maxTokenBytes: 4096,
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("JWT verification against a JWKS URL", () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let rotated: Awaited<ReturnType<typeof generateKeyPair>>;
  let published: JWK[];
  let fetches = 0;
  let down = false;
  let url: string;
  let http: HttpClient;
  const server = createServer((_req, res) => {
    fetches++;
    if (down) {
      res.writeHead(503).end();
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: published }));
  });
  let clock = 0;
  const log = captureLogger();
  let keys: JwksKeys;

  before(async () => {
    rsa = await generateKeyPair("RS256");
    ec = await generateKeyPair("ES256");
    rotated = await generateKeyPair("ES256");
    published = [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ];
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
    http = new HttpClient({ timeoutSeconds: 2 });
    keys = new JwksKeys({
      url,
      cacheSeconds: 600,
      minRefreshSeconds: 30,
      http,
      logger: log.logger,
      now: () => clock,
    });
  });
  after(() => {
    http.close();
    server.closeAllConnections();
    server.close();
  });

  const sign = (
    claims: Record<string, unknown> = {},
    { key = rsa.privateKey, kid = "rsa-1", alg = "RS256" } = {},
  ) =>
    new SignJWT({
      sub: "alice",
      scope: "orders:read",
      iss: "https://idp.test",
      aud: "orders",
      iat: nowSeconds(),
      exp: nowSeconds() + 300,
      ...claims,
    })
      .setProtectedHeader({ alg, kid })
      .sign(key);

  const reason = async (token: string) => {
    const result = await verifyJwt(token, keys, rules);
    return "failure" in result ? result.failure.reason : `ok ${result.claims.sub}`;
  };

  test("valid RS256 and ES256 tokens pass with their claims; the JWKS is fetched once", async () => {
    assert.equal(await reason(await sign()), "ok alice");
    assert.equal(
      await reason(await sign({}, { key: ec.privateKey, kid: "ec-1", alg: "ES256" })),
      "ok alice",
    );
    assert.equal(fetches, 1);
  });

  test('alg "none" is refused before any key is looked up', async () => {
    const token = `${b64({ alg: "none", kid: "rsa-1" })}.${b64({ sub: "mallory", iss: "https://idp.test", aud: "orders", exp: nowSeconds() + 60 })}.`;
    assert.equal(await reason(token), "algorithm");
  });

  test("HS256 signed with the RSA public key (key confusion) is refused", async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const input = `${b64({ alg: "HS256", kid: "rsa-1" })}.${b64({ sub: "mallory", iss: "https://idp.test", aud: "orders", exp: nowSeconds() + 60 })}`;
    const mac = createHmac("sha256", pem).update(input).digest("base64url");
    assert.equal(await reason(`${input}.${mac}`), "algorithm");
    // Even with HS256 in the allow-list, no JWKS key is an HMAC secret.
    const loose = { ...rules, algorithms: [...rules.algorithms, "HS256"] } as unknown as JwtRules;
    const result = await verifyJwt(`${input}.${mac}`, keys, loose);
    assert.ok("failure" in result);
  });

  test("expired, not yet valid, wrong issuer or audience, missing exp, tampered, oversized", async () => {
    const past = nowSeconds() - 3600;
    assert.equal(await reason(await sign({ exp: past })), "expired");
    assert.equal(
      await reason(await sign({ exp: nowSeconds() - 10 })),
      "ok alice",
      "within the skew",
    );
    assert.equal(await reason(await sign({ nbf: nowSeconds() + 3600 })), "not_yet_valid");
    assert.equal(await reason(await sign({ iss: "https://evil.test" })), "issuer");
    assert.equal(await reason(await sign({ aud: "billing" })), "audience");
    const noExp = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "RS256", kid: "rsa-1" })
      .setIssuer("https://idp.test")
      .setAudience("orders")
      .sign(rsa.privateKey);
    assert.equal(await reason(noExp), "missing_claim");
    const [h, , s] = (await sign()).split(".");
    assert.equal(
      await reason(
        `${h}.${b64({ sub: "admin", iss: "https://idp.test", aud: "orders", exp: nowSeconds() + 60 })}.${s}`,
      ),
      "signature",
    );
    assert.equal(await reason(await sign({ pad: "x".repeat(5000) })), "too_large");
    assert.equal(await reason("not.a.jwt"), "malformed");
  });

  test("an unknown kid refetches the JWKS, at most once per minRefreshSeconds; a rotated-in key then works", async () => {
    const before = fetches;
    const token = await sign({}, { key: rotated.privateKey, kid: "ec-2", alg: "ES256" });
    clock += 31_000;
    assert.equal(await reason(token), "unknown_key");
    assert.equal(fetches, before + 1);
    // A flood of unknown kids within the interval fetches nothing more.
    for (let i = 0; i < 5; i++) assert.equal(await reason(token), "unknown_key");
    assert.equal(fetches, before + 1);
    published.push({ ...(await exportJWK(rotated.publicKey)), kid: "ec-2", alg: "ES256" });
    clock += 31_000;
    assert.equal(await reason(token), "ok alice");
    assert.equal(fetches, before + 2);
  });

  test("with the IdP down, the cached keys keep serving (stale) and the failure is logged", async () => {
    down = true;
    clock += 700_000; // past cacheSeconds: a background refresh is attempted and fails
    assert.equal(await reason(await sign()), "ok alice");
    await until(
      () =>
        /SIDECAR_ERR_PROXY_JWKS_FETCH.*cached keys stay in use/.test(JSON.stringify(log.lines())),
      "the failed refresh is logged",
    );
    assert.equal(await reason(await sign()), "ok alice");
    down = false;
  });

  test("no secret in the logs: no token, no key material", async () => {
    const text = JSON.stringify(log.lines());
    assert.doesNotMatch(text, /eyJ/);
  });
});

test("never fetched (IdP down from the start): tokens are refused as jwks_unavailable", async () => {
  const server = createServer((_req, res) => res.writeHead(500).end());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const http = new HttpClient({ timeoutSeconds: 1 });
  try {
    const keys = new JwksKeys({
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`,
      cacheSeconds: 600,
      minRefreshSeconds: 0,
      http,
      logger: captureLogger().logger,
      now: () => performance.now(),
    });
    const { privateKey } = await generateKeyPair("ES256");
    const token = await new SignJWT({ sub: "a" })
      .setProtectedHeader({ alg: "ES256", kid: "k" })
      .setIssuer("https://idp.test")
      .setAudience("orders")
      .setExpirationTime("5m")
      .sign(privateKey);
    const result = await verifyJwt(token, keys, rules);
    assert.ok("failure" in result && result.failure.reason === "jwks_unavailable");
  } finally {
    http.close();
    server.close();
  }
});

test("a local JWKS file is used and reloaded", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-jwks-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const file = join(dir, "jwks.json");
  await writeFile(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "f1" }] }));
  const keys = new JwksKeys({
    file,
    cacheSeconds: 600,
    minRefreshSeconds: 30,
    logger: captureLogger().logger,
    now: () => performance.now(),
  });
  t.after(() => keys.close());
  const token = await new SignJWT({ sub: "bob" })
    .setProtectedHeader({ alg: "ES256", kid: "f1" })
    .setIssuer("https://idp.test")
    .setAudience("orders")
    .setExpirationTime("5m")
    .sign(privateKey);
  const result = await verifyJwt(token, keys, rules);
  assert.ok("claims" in result && result.claims.sub === "bob");
  const next = await generateKeyPair("ES256");
  await writeFile(
    file,
    JSON.stringify({ keys: [{ ...(await exportJWK(next.publicKey)), kid: "f2" }] }),
  );
  const rotatedToken = await new SignJWT({ sub: "carol" })
    .setProtectedHeader({ alg: "ES256", kid: "f2" })
    .setIssuer("https://idp.test")
    .setAudience("orders")
    .setExpirationTime("5m")
    .sign(next.privateKey);
  await until(
    async () => "claims" in (await verifyJwt(rotatedToken, keys, rules)),
    "the rotated file's key verifies",
  );
  assert.ok("failure" in (await verifyJwt(token, keys, rules)));
});
