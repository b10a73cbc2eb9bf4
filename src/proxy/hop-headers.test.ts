import assert from "node:assert/strict";
import { test } from "node:test";
import {
  downstreamResponseHeaders,
  forwardedTrailers,
  upstreamRequestHeaders,
  withContentLength,
} from "./hop-headers.ts";

const options = { clientAddress: "::ffff:10.0.0.7", proto: "http", upgrade: false, chunked: false };

test("drops every Connection-named header, case-insensitively, across several Connection headers", () => {
  const { headers } = upstreamRequestHeaders(
    [
      "Host",
      "a",
      "Connection",
      "X-One",
      "connection",
      " x-two ,",
      "X-ONE",
      "1",
      "x-two",
      "2",
      "X-Three",
      "3",
    ],
    options,
  );
  assert.deepEqual(
    headers.filter((_, i) => i % 2 === 0 && i < 4),
    ["Host", "X-Three"],
  );
});

test("X-Forwarded-For joins every incoming value and appends the client without the v4-mapped prefix", () => {
  const { headers } = upstreamRequestHeaders(
    ["X-Forwarded-For", "1.1.1.1", "x-forwarded-for", "2.2.2.2"],
    options,
  );
  const i = headers.indexOf("x-forwarded-for");
  assert.equal(headers[i + 1], "1.1.1.1, 2.2.2.2, 10.0.0.7");
});

test("an invalid X-Request-Id or traceparent is replaced", () => {
  const { headers, requestId } = upstreamRequestHeaders(
    [
      "X-Request-Id",
      "bad id with spaces",
      "traceparent",
      "00-00000000000000000000000000000000-0000000000000000-01",
    ],
    options,
  );
  assert.notEqual(requestId, "bad id with spaces");
  const tp = headers[headers.indexOf("traceparent") + 1]!;
  assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.notEqual(tp.slice(3, 35), "0".repeat(32));
});

test("an upgrade request keeps Upgrade and gets Connection: upgrade", () => {
  const { headers } = upstreamRequestHeaders(["Connection", "Upgrade", "Upgrade", "websocket"], {
    ...options,
    upgrade: true,
  });
  assert.deepEqual(headers.slice(-4), ["connection", "upgrade", "upgrade", "websocket"]);
});

test("response: hop-by-hop and Connection-named headers go, end-to-end ones stay in order", () => {
  assert.deepEqual(
    downstreamResponseHeaders([
      "Content-Type",
      "text/plain",
      "Connection",
      "x-internal",
      "X-Internal",
      "1",
      "Transfer-Encoding",
      "chunked",
      "Set-Cookie",
      "a=1",
      "Set-Cookie",
      "b=2",
      "Trailer",
      "x-sum",
    ]),
    ["Content-Type", "text/plain", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Trailer", "x-sum"],
  );
});

test("header spoofing: client copies of identity headers and XFCC go, whatever their case or _/- spelling", () => {
  const { headers } = upstreamRequestHeaders(
    [
      "Host",
      "a",
      "X-Auth-Subject",
      "admin",
      "x_auth_subject",
      "admin",
      "X_AUTH-SUBJECT",
      "admin",
      "X-Forwarded-Client-Cert",
      "Hash=evil",
      "x_forwarded_client_cert",
      "Hash=evil",
      "X_Forwarded_For",
      "6.6.6.6",
      "x_request_id",
      "spoofed",
      "X-Other_Header",
      "kept",
    ],
    {
      ...options,
      identityHeaders: new Set(["x-auth-subject"]),
      forwardedClientCert: 'Hash=abc;Subject="CN=web"',
    },
  );
  const pairs: string[] = [];
  for (let i = 0; i < headers.length; i += 2) pairs.push(`${headers[i]}: ${headers[i + 1]}`);
  assert.ok(!pairs.some((p) => /admin|evil|6\.6\.6\.6|spoofed/.test(p)), pairs.join("\n"));
  assert.ok(pairs.includes("X-Other_Header: kept"));
  assert.ok(pairs.includes('x-forwarded-client-cert: Hash=abc;Subject="CN=web"'));
});

test("the upstream's Content-Length never goes down: the proxy adds the length it enforces", () => {
  const headers = downstreamResponseHeaders([
    "Content-Length",
    "3",
    "Transfer-Encoding",
    "chunked",
    "X-A",
    "1",
  ]);
  assert.deepEqual(headers, ["X-A", "1"]);
  assert.deepEqual(withContentLength([...headers], 200, 5), ["X-A", "1", "content-length", "5"]);
  assert.deepEqual(withContentLength([...headers], 200, undefined), ["X-A", "1"]);
  assert.deepEqual(withContentLength([...headers], 204, 5), ["X-A", "1"]);
  assert.deepEqual(withContentLength([...headers], 304, 9), ["X-A", "1", "content-length", "9"]);
});

test("trailers lose framing, hop-by-hop, routing and content fields", () => {
  assert.deepEqual(
    forwardedTrailers([
      "Content-Length",
      "9",
      "transfer-encoding",
      "chunked",
      "Connection",
      "close",
      "Trailer",
      "x",
      "Host",
      "evil",
      "Content-Type",
      "text/html",
      "X-Sum",
      "42",
    ]),
    [["X-Sum", "42"]],
  );
});

test("response without a Connection header: every hop-by-hop header and Content-Length go, any case", () => {
  const raw = [
    ...["Keep-Alive", "timeout=5", "TRANSFER-ENCODING", "chunked", "Te", "trailers"],
    ...["Proxy-Connection", "x", "Content-LENGTH", "13", "UPGRADE", "h2c"],
    ...["Content-Type", "text/plain", "Date", "today", "X-Hop", "kept"],
  ];
  assert.deepEqual(downstreamResponseHeaders(raw), [
    ...["Content-Type", "text/plain", "Date", "today", "X-Hop", "kept"],
  ]);
  assert.deepEqual(downstreamResponseHeaders(["Upgrade", "websocket", "Date", "d"], true), [
    ...["Upgrade", "websocket", "Date", "d"],
  ]);
});
