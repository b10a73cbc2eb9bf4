import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { after, before, describe, test } from "node:test";
import { HttpClient } from "../../../runtime/http/http-client.ts";
import { freePort } from "../../../runtime/testing.ts";
import {
  type AuthQuestion,
  askAuthService,
  type ForwardAuthOptions,
} from "./forward-auth-client.ts";

describe("forward auth client", () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const token = req.headers.authorization;
    if (token === "Bearer good")
      res.writeHead(200, { "x-auth-user": "alice", "x-secret": "no" }).end();
    else if (token === "Bearer login")
      res.writeHead(302, { location: "https://login.test/" }).end();
    else if (token === "Bearer boom") res.writeHead(500).end();
    else if (token === "Bearer slow") setTimeout(() => res.end(), 5_000).unref();
    else res.writeHead(401, { "www-authenticate": 'Bearer realm="app"' }).end("no");
  });
  let options: ForwardAuthOptions;
  const http = new HttpClient({});
  before(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    options = {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}/check`,
      method: "GET",
      requestHeaders: ["authorization", "cookie"],
      upstreamHeaders: ["x-auth-user"],
      clientHeaders: ["www-authenticate", "location"],
      timeoutSeconds: 0.3,
    };
  });
  after(() => {
    http.close();
    server.closeAllConnections();
    server.close();
  });
  const question = (authorization: string): AuthQuestion => ({
    method: "POST",
    uri: "/orders/1?x=1",
    host: "shop.test",
    proto: "https",
    clientAddress: "10.1.2.3",
    headers: {
      authorization,
      cookie: "s=1",
      "x-forwarded-uri": "/public",
      "x-api-key": "not-for-the-auth-service",
    },
  });

  test("a 2xx allows and hands over only the selected response headers", async () => {
    const decision = await askAuthService(http, options, question("Bearer good"));
    assert.deepEqual(decision, { allow: true, upstreamHeaders: [["x-auth-user", "alice"]] });
    const sent = seen.at(-1)!;
    assert.equal(sent.authorization, "Bearer good");
    assert.equal(sent.cookie, "s=1");
    assert.equal(sent["x-api-key"], undefined, "only the selected request headers go");
    // The proxy's own view, never the client's X-Forwarded-Uri.
    assert.equal(sent["x-forwarded-uri"], "/orders/1?x=1");
    assert.equal(sent["x-forwarded-method"], "POST");
    assert.equal(sent["x-forwarded-host"], "shop.test");
    assert.equal(sent["x-forwarded-proto"], "https");
    assert.equal(sent["x-forwarded-for"], "10.1.2.3");
  });

  test("401 and redirects deny with their status and the selected headers", async () => {
    assert.deepEqual(await askAuthService(http, options, question("Bearer bad")), {
      allow: false,
      status: 401,
      clientHeaders: [["www-authenticate", 'Bearer realm="app"']],
      reason: "auth service answered 401",
    });
    const login = await askAuthService(http, options, question("Bearer login"));
    assert.ok("allow" in login && !login.allow && login.status === 302);
    assert.deepEqual(login.clientHeaders, [["location", "https://login.test/"]]);
  });

  test("a 5xx, a timeout or no connection is an error (the filter's failure mode decides)", async () => {
    assert.deepEqual(await askAuthService(http, options, question("Bearer boom")), {
      error: "auth service answered 500",
    });
    const slow = await askAuthService(http, options, question("Bearer slow"));
    assert.ok("error" in slow && /timed out/.test(slow.error));
    const refused = await askAuthService(
      http,
      { ...options, url: `http://127.0.0.1:${await freePort()}/check` },
      question("Bearer good"),
    );
    assert.ok("error" in refused && /ECONNREFUSED/.test(refused.error));
  });
});
