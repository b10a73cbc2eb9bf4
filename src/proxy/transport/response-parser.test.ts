import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseParser } from "./response-parser.ts";

interface Seen {
  status?: number;
  message?: string;
  headers?: string[];
  body: string;
  trailers?: string[];
  keepAlive?: boolean;
  error?: string;
}

function parse(input: string, { noBody = false, byteByByte = false, eof = false } = {}): Seen {
  const seen: Seen = { body: "" };
  const parser = new ResponseParser({
    onHead(status, message, headers) {
      Object.assign(seen, { status, message, headers });
    },
    onBody(chunk) {
      seen.body += chunk.toString("latin1");
    },
    onEnd(trailers, keepAlive) {
      Object.assign(seen, { trailers, keepAlive });
    },
    onError(message) {
      seen.error = message;
    },
  });
  parser.start(noBody);
  const bytes = Buffer.from(input, "latin1");
  if (byteByByte) for (const b of bytes) parser.feed(Buffer.from([b]));
  else parser.feed(bytes);
  if (eof) parser.eof();
  return seen;
}

test("Content-Length body, also fed one byte at a time", () => {
  for (const byteByByte of [false, true]) {
    const seen = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello",
      {
        byteByByte,
      },
    );
    assert.equal(seen.status, 200);
    assert.equal(seen.message, "OK");
    assert.deepEqual(seen.headers, [
      "Content-Length",
      "5",
      "Set-Cookie",
      "a=1",
      "Set-Cookie",
      "b=2",
    ]);
    assert.equal(seen.body, "hello");
    assert.equal(seen.keepAlive, true);
  }
});

test("chunked body with extensions and trailers, also fed one byte at a time", () => {
  for (const byteByByte of [false, true]) {
    const seen = parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 42\r\n\r\n",
      { byteByByte },
    );
    assert.equal(seen.body, "hello!");
    assert.deepEqual(seen.trailers, ["X-Sum", "42"]);
    assert.equal(seen.error, undefined);
  }
});

test("1xx responses are skipped; HEAD, 204 and 304 have no body", () => {
  assert.equal(
    parse(
      "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
    ).body,
    "x",
  );
  const head = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", { noBody: true });
  assert.equal(head.keepAlive, true);
  assert.equal(head.body, "");
  assert.equal(parse("HTTP/1.1 204 No Content\r\n\r\n").keepAlive, true);
  assert.equal(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n").keepAlive, true);
});

test("a body without framing runs until the connection closes and the connection is not reused", () => {
  const seen = parse("HTTP/1.1 200 OK\r\n\r\nall of it", { eof: true });
  assert.equal(seen.body, "all of it");
  assert.equal(seen.keepAlive, false);
});

test("Connection: close and HTTP/1.0 end keep-alive", () => {
  assert.equal(
    parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keepAlive,
    false,
  );
  assert.equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive, false);
  assert.equal(
    parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keepAlive,
    true,
  );
});

test("malformed responses are errors", () => {
  for (const bad of [
    "HTTP/2 200 OK\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\u0000b\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy",
  ])
    assert.ok(parse(bad).error, JSON.stringify(bad));
  assert.ok(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", { eof: true }).error);
});
