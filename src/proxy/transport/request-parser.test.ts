import assert from "node:assert/strict";
import { test } from "node:test";
import { type RequestHead, RequestParser, type RequestParserOptions } from "./request-parser.ts";
import { hostileRequests } from "./testing/hostile-requests.ts";

/** Everything the parser reported, in order, as short strings (easy to compare). */
function events(
  input: string,
  { cuts = [] as number[], options = {} as RequestParserOptions, resume = true } = {},
): string[] {
  const seen: string[] = [];
  let ended = false;
  const parser = new RequestParser(
    {
      onHead(head) {
        seen.push(`head ${describe(head)}`);
      },
      onBody(chunk) {
        // Body parts are merged: where the input was cut must not show.
        const last = seen.at(-1);
        if (last?.startsWith("body ")) seen[seen.length - 1] = last + chunk.toString("latin1");
        else seen.push(`body ${chunk.toString("latin1")}`);
      },
      onEnd(trailers) {
        seen.push(`end ${JSON.stringify(trailers)}`);
        ended = true;
      },
      onUpgrade(rest) {
        seen.push(`upgrade ${rest.toString("latin1")}`);
      },
      onError(code, status) {
        seen.push(`error ${code} ${status}`);
      },
    },
    options,
  );
  const bytes = Buffer.from(input, "latin1");
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // A reused read buffer: what the parser keeps across calls must be its own copy.
    const piece = Buffer.from(bytes.subarray(from, cut));
    parser.feed(piece);
    piece.fill(0x21);
    from = cut;
    while (ended && resume) {
      ended = false;
      parser.resume();
    }
  }
  return seen;
}

function describe(head: RequestHead): string {
  const framing =
    head.framing.kind === "length" ? `length=${head.framing.length}` : head.framing.kind;
  const flags = [
    head.keepAlive ? "keep-alive" : "close",
    head.upgrade ? "upgrade" : "",
    head.expectContinue ? "continue" : "",
  ].filter(Boolean);
  return `${head.method} ${head.target} 1.${head.minorVersion} ${JSON.stringify(head.rawHeaders)} ${framing} ${flags.join(" ")}`;
}

const get = "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

test("parses a request line and headers as node's req.rawHeaders", () => {
  assert.deepEqual(
    events("GET /a?b=c HTTP/1.1\r\nHost:  example.com \t\r\nX-Empty:\r\nX-Obs: caf\u00e9\r\n\r\n"),
    [
      'head GET /a?b=c 1.1 ["Host","example.com","X-Empty","","X-Obs","café"] none keep-alive',
      "end []",
    ],
  );
});

test("Content-Length and chunked bodies, with chunk extensions and trailers", () => {
  assert.deepEqual(events("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), [
    'head POST / 1.1 ["Host","a","Content-Length","5"] length=5 keep-alive',
    "body hello",
    "end []",
  ]);
  assert.deepEqual(
    events(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5;a=b;c="d e"\r\nhello\r\n0A\r\n0123456789\r\n0\r\nX-Sum:  1 \r\n\r\n',
    ),
    [
      'head POST / 1.1 ["Host","a","Transfer-Encoding","Chunked"] chunked keep-alive',
      "body hello0123456789",
      'end ["X-Sum","1"]',
    ],
  );
});

test("gives the same events however the bytes are split, byte by byte included", () => {
  const input =
    "\r\nPOST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n" +
    `PUT /y HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nwxyz${get}`;
  const whole = events(input);
  assert.equal(whole.length, 8);
  for (let cut = 1; cut < input.length; cut++)
    assert.deepEqual(events(input, { cuts: [cut] }), whole, `cut at ${cut}`);
  const everyByte = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(events(input, { cuts: everyByte }), whole);
});

test("parses pipelined requests one at a time: nothing after a request's end until resume()", () => {
  assert.deepEqual(events(get + get, { resume: false }), [events(get)[0], "end []"]);
  assert.deepEqual(events(get + get), [...events(get), ...events(get)]);
});

test("keeps its own copy of what is fed while paused, and parses it on resume()", () => {
  const seen: string[] = [];
  const parser = new RequestParser({
    onHead: (head) => seen.push(head.target),
    onBody: () => {},
    onEnd: () => seen.push("end"),
    onUpgrade: () => {},
    onError: (code) => seen.push(code),
  });
  const input = Buffer.from(
    `${get}GET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\n`,
    "latin1",
  );
  const reused = Buffer.alloc(input.length);
  for (const [from, to] of [
    [0, 60],
    [60, 90],
    [90, input.length],
  ] as const) {
    input.copy(reused, 0, from, to);
    parser.feed(reused.subarray(0, to - from));
    reused.fill(0x21);
  }
  assert.deepEqual(seen, ["/a?b=c", "end"]);
  assert.equal(parser.paused, true);
  parser.resume();
  assert.deepEqual(seen, ["/a?b=c", "end", "/2", "end"]);
  parser.resume();
  assert.equal(parser.inMessage, true);
  parser.feed(Buffer.from("Host: a\r\n\r\n"));
  assert.deepEqual(seen.slice(-2), ["/3", "end"]);
});

test("keeps the connection open as node:http does (HTTP/1.0, Connection: close, keep-alive)", () => {
  const keepAlive = (head: string) =>
    events(`${head}\r\n\r\n`)[0]!.split("] ")[1]!.includes("keep-alive");
  assert.equal(keepAlive("GET / HTTP/1.0"), false);
  assert.equal(keepAlive("GET / HTTP/1.0\r\nConnection: x, Keep-Alive"), true);
  assert.equal(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close"), false);
  assert.equal(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: closer"), true);
  assert.equal(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: \u00a0close"), true);
  // HTTP/1.0 framing by Transfer-Encoding is faulty: close after the message (RFC 9112 §6.1).
  assert.equal(
    keepAlive("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0"),
    false,
  );
});

test("refuses bytes after a request that closes the connection, but not CRLFs", () => {
  const close = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  assert.deepEqual(events(`${close}\r\n`).slice(-1), ["end []"]);
  assert.deepEqual(events(`${close}${get}`).slice(-1), ["error DATA_AFTER_CLOSE 400"]);
});

test("hands back the bytes after an upgrade or CONNECT head instead of parsing them", () => {
  assert.deepEqual(
    events(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\u0081\u0000GET",
    ),
    [
      'head GET /ws 1.1 ["Host","a","Connection","Upgrade","Upgrade","websocket"] none keep-alive upgrade',
      "upgrade \u0081\u0000GET",
    ],
  );
  assert.deepEqual(events("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), [
    'head CONNECT example.com:443 1.1 ["Host","example.com:443"] none keep-alive upgrade',
    "upgrade ",
  ]);
  // Upgrade without Connection: upgrade is an ordinary request.
  assert.match(events(`GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n`)[1]!, /^end/);
});

test("reports Expect: 100-continue on HTTP/1.1 only", () => {
  const expect = (version: string) =>
    events(`POST / HTTP/${version}\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n`)[0]!.endsWith(
      "continue",
    );
  assert.equal(expect("1.1"), true);
  assert.equal(expect("1.0"), false);
});

test("takes HTAB as OWS before a Transfer-Encoding value, not after it (as llhttp)", () => {
  const te = (value: string) =>
    events(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:${value}\r\n\r\n0\r\n\r\n`).at(-1);
  assert.equal(te("\tchunked"), "end []");
  assert.equal(te(" chunked "), "end []");
  assert.equal(te(" chunked\t"), "error INVALID_TRANSFER_ENCODING 400");
});

test("accepts origin-, absolute- and asterisk-form (OPTIONS) targets", () => {
  for (const line of [
    "GET http://example.com:8080/a?b HTTP/1.1",
    "GET https://[::1]/ HTTP/1.1",
    "OPTIONS * HTTP/1.1",
    'GET /"<>{}|\\^`#f HTTP/1.1',
  ])
    assert.match(events(`${line}\r\nHost: a\r\n\r\n`).at(-1)!, /^end/, line);
});

/** Each refusal: the bytes, the code and the status the proxy answers with. */
const refusals: [name: string, input: string, code: string, status: number][] = [
  [
    "CL and TE",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "TE_AND_CL",
    400,
  ],
  [
    "TE and CL",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    "TE_AND_CL",
    400,
  ],
  [
    "CL, CL differing",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "CL, CL equal",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "CL list",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "negative CL",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "plus CL",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "empty CL",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "CL above 2^53 - 1",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740992\r\n\r\n",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "TE: chunked, identity",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE: identity",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE twice",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE: chunked<HTAB>",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE: <NBSP>chunked",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \u00a0chunked\r\n\r\n0\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE: ,chunked",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE: gzip, chunked",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "UNSUPPORTED_TRANSFER_ENCODING",
    501,
  ],
  [
    "space before the colon",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "INVALID_HEADER_TOKEN",
    400,
  ],
  ["empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", "INVALID_HEADER_TOKEN", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "OBS_FOLD", 400],
  ["obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", "OBS_FOLD", 400],
  ["bare LF ending a header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", "BARE_CR_OR_LF", 400],
  ["bare LF heads", "GET / HTTP/1.1\nHost: a\n\n", "BARE_CR_OR_LF", 400],
  ["bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", "BARE_CR_OR_LF", 400],
  [
    "bare LF in a chunk line",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n",
    "BARE_CR_OR_LF",
    400,
  ],
  [
    "NUL in a value",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n",
    "INVALID_HEADER_TOKEN",
    400,
  ],
  [
    "DEL in a value",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\u007fb\r\n\r\n",
    "INVALID_HEADER_TOKEN",
    400,
  ],
  [
    "chunk size overflow",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "chunk size 2^53",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n20000000000000\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "chunk-ext junk",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a b\r\nx\r\n0\r\n\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "chunk size with space",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "0x chunk size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "negative chunk size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "chunk data over its size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
    "INVALID_CHUNK",
    400,
  ],
  [
    "Content-Length trailer",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n",
    "INVALID_CONTENT_LENGTH",
    400,
  ],
  [
    "Transfer-Encoding trailer",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n",
    "INVALID_TRANSFER_ENCODING",
    400,
  ],
  ["whitespace in the method", "G ET / HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_METHOD", 400],
  ["lower-case method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_METHOD", 400],
  ["unknown method", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_METHOD", 400],
  ["HTAB in the target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_TARGET", 400],
  ["SP in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_VERSION", 400],
  ["two SP before the target", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_TARGET", 400],
  ["non-ASCII target", "GET /\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_TARGET", 400],
  ["asterisk-form for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_TARGET", 400],
  ["relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_TARGET", 400],
  ["CONNECT to a path", "CONNECT /a HTTP/1.1\r\nHost: a\r\n\r\n", "INVALID_TARGET", 400],
  ["HTTP/0.9 line", "GET /\r\n\r\n", "INVALID_VERSION", 400],
  ["HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", "UNSUPPORTED_VERSION", 505],
  ["HTTP/2.0 line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "UNSUPPORTED_VERSION", 505],
  ["HTTP/1.2 line", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", "INVALID_VERSION", 400],
  ["SP after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "INVALID_VERSION", 400],
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", "MISSING_HOST", 400],
  ["two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "DUPLICATE_HOST", 400],
];

test("refuses every smuggling classic with a stable code and the status node:http answers", () => {
  for (const [name, input, code, status] of refusals) {
    const seen = events(input);
    assert.deepEqual(seen.slice(-1), [`error ${code} ${status}`], name);
    assert.equal(seen.filter((e) => e.startsWith("end")).length, 0, name);
    // Split anywhere, the verdict is the same.
    for (let cut = 1; cut < input.length; cut++)
      assert.deepEqual(
        events(input, { cuts: [cut] }).slice(-1),
        seen.slice(-1),
        `${name} at ${cut}`,
      );
  }
});

test("parses nothing after a refusal", () => {
  const seen = events(`GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n${get}`, { cuts: [40] });
  assert.deepEqual(seen, ["error OBS_FOLD 400"]);
});

test("maxHeaderBytes counts as node:http does: target, names and values without leading OWS", () => {
  // Counted: "/" (1) + "Host" "a" (5) + "X" (1) + the value; refused when the sum reaches the limit.
  const head = (n: number) => `GET / HTTP/1.1\r\nHost: a\r\nX:   ${"v".repeat(n)}\r\n\r\n`;
  const options = { maxHeaderBytes: 100 };
  assert.match(events(head(92), { options }).at(-1)!, /^end/);
  assert.deepEqual(events(head(93), { options }), ["error HEADERS_TOO_LARGE 431"]);
  // The trailer section is counted on its own.
  const trailer = (n: number) =>
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ${"t".repeat(n)}\r\n\r\n`;
  assert.match(events(trailer(98), { options }).at(-1)!, /^end/);
  assert.deepEqual(events(trailer(99), { options }).at(-1), "error HEADERS_TOO_LARGE 431");
});

test("refuses a head that never ends once it is over twice maxHeaderBytes", () => {
  const seen = events(`GET / HTTP/1.1\r\nHost: a\r\nX:${" ".repeat(5000)}`, {
    options: { maxHeaderBytes: 1024 },
  });
  assert.deepEqual(seen, ["error HEADERS_TOO_LARGE 431"]);
});

test("requireHost: false takes HTTP/1.1 without Host", () => {
  assert.match(events("GET / HTTP/1.1\r\n\r\n", { options: { requireHost: false } })[1]!, /^end/);
});

test("refuses the hostile-input suite's requests with the listener's statuses", () => {
  for (const [name, request, status] of hostileRequests) {
    const last = events(request, { options: { maxHeaderBytes: 4096 } }).at(-1)!;
    // 413 and 414 are the listener's own limits (body and URL size), not the parser's.
    if (status === 413 || status === 414) assert.doesNotMatch(last, /^error/, name);
    else assert.match(last, new RegExp(`^error [A-Z_]+ ${status}$`), name);
  }
});
