import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseParser } from "./response-parser.ts";

interface Seen {
  status?: number;
  contentLength?: number | undefined;
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
    onHead(status, message, headers, contentLength) {
      Object.assign(seen, { status, message, headers, contentLength });
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
  ])
    assert.ok(parse(bad).error, JSON.stringify(bad));
  assert.ok(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", { eof: true }).error);
});

const chunkedHello = "5\r\nhello\r\n0\r\n\r\n";

test("a response framed by both Content-Length and Transfer-Encoding is refused, in either order", () => {
  for (const head of [
    "Content-Length: 3\r\nTransfer-Encoding: chunked",
    "Transfer-Encoding: chunked\r\nContent-Length: 3",
    "Transfer-Encoding: chunked\r\nContent-Length: 0",
  ]) {
    const seen = parse(`HTTP/1.1 200 OK\r\n${head}\r\n\r\n${chunkedHello}`);
    assert.match(seen.error ?? "", /both Content-Length and Transfer-Encoding/);
    assert.equal(seen.status, undefined, "no head was passed on");
  }
});

test("a Transfer-Encoding other than exactly chunked is refused when a body follows", () => {
  for (const te of ["gzip, chunked", "chunked, chunked", ",chunked", "chunked;q=1", "identity"])
    assert.match(
      parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n${chunkedHello}`).error ?? "",
      /Transfer-Encoding/,
      te,
    );
  const twice = parse(
    `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedHello}`,
  );
  assert.ok(twice.error);
  assert.equal(
    parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n${chunkedHello}`).body,
    "hello",
  );
  // Without a body the coding frames nothing (as llhttp).
  assert.equal(
    parse("HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n").error,
    undefined,
  );
});

test("duplicate, signed, empty or huge Content-Length is refused", () => {
  for (const cl of [
    "5\r\nContent-Length: 5",
    "+5",
    "",
    "5, 5",
    "0x5",
    "99999999999999999999",
    "5\r",
  ])
    assert.ok(parse(`HTTP/1.1 200 OK\r\nContent-Length: ${cl}\r\n\r\nhello`).error, cl);
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 005 \r\n\r\nhello").body, "hello");
});

test("bytes after a complete response are never read as another: delivered, connection not reused", () => {
  for (const [input, noBody] of [
    ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy", false],
    [
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      false,
    ],
    [`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedHello}X`, false],
    ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", true],
  ] as const) {
    const seen = parse(input, { noBody });
    assert.equal(seen.error, undefined, input);
    assert.equal(seen.keepAlive, false, input);
  }
});

test("the head reports the exact body length it enforces, the declared one for HEAD and 304, none for 204", () => {
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").contentLength, 5);
  assert.equal(
    parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedHello}`).contentLength,
    undefined,
  );
  assert.equal(
    parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", { noBody: true }).contentLength,
    9,
  );
  assert.equal(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").contentLength, 9);
  assert.equal(
    parse("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n").contentLength,
    undefined,
  );
});

test("chunk lines: no whitespace, extensions as llhttp accepts them, no Content-Length in trailers", () => {
  const chunk = (line: string) =>
    parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${line}\r\nhello\r\n0\r\n\r\n`);
  for (const good of ["5;a=b", "5;a", "5;a=", '5;a="b c"', "5;a;b=c", "05"])
    assert.equal(chunk(good).body, "hello", good);
  for (const bad of [
    "5 ",
    " 5",
    "5 ;a=b",
    "5;",
    "5; a=b",
    "5;a b",
    "5;a\nb",
    '5;a="b\u0001"',
    "fffffffffffffffff",
  ])
    assert.ok(chunk(bad).error, bad);
  const trailer = (line: string) =>
    parse(
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedHello.slice(0, -2)}${line}\r\n\r\n`,
    );
  assert.deepEqual(trailer("X-Sum: 1").trailers, ["X-Sum", "1"]);
  for (const bad of ["Content-Length: 9", "Bad T: 9", "A: b\u0001", " folded", "A: b\n"])
    assert.ok(trailer(bad).error, bad);
});

test("status line: 101 without an Upgrade request, control characters and other versions are refused", () => {
  for (const bad of [
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 200 O\u0001K\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n",
    "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\r\n\r\n",
  ])
    assert.ok(parse(bad).error, JSON.stringify(bad));
  assert.equal(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").status, 200);
});

test("CR and LF before a status line are skipped; a 1xx that closes the connection ends it", () => {
  assert.equal(
    parse("HTTP/1.1 103 EH\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx").body,
    "x",
  );
  assert.ok(
    parse("HTTP/1.0 103 EH\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx").error,
    "an HTTP/1.0 interim response",
  );
  assert.ok(
    parse("HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\n\r\n").error,
  );
});

test("what it keeps between feeds it copies: the fed buffer may be a read buffer reused at once", () => {
  const input = Buffer.from(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "latin1",
  );
  const seen = { head: [] as string[], body: "", ended: false, error: "" };
  const parser = new ResponseParser({
    onHead(_status, _message, headers) {
      seen.head = headers;
    },
    onBody(chunk) {
      seen.body += chunk.toString("latin1");
    },
    onEnd() {
      seen.ended = true;
    },
    onError(message) {
      seen.error = message;
    },
  });
  parser.start(false);
  // Every split point, each part fed from one buffer that is overwritten after each feed.
  const reused = Buffer.alloc(input.length);
  for (let split = 1; split < input.length; split++) {
    Object.assign(seen, { head: [], body: "", ended: false, error: "" });
    parser.start(false);
    for (const [from, to] of [
      [0, split],
      [split, input.length],
    ] as const) {
      input.copy(reused, 0, from, to);
      parser.feed(reused.subarray(0, to - from));
      reused.fill("#");
    }
    assert.deepEqual(
      seen,
      { head: ["Transfer-Encoding", "chunked", "X-A", "b"], body: "hello", ended: true, error: "" },
      `split at ${split}`,
    );
  }
});
