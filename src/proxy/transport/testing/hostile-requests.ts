/**
 * Hostile requests and the status the proxy answers each with, for a listener with
 * maxHeaderBytes 4096, maxUrlBytes 1024 and maxRequestBodyBytes 1000: run against the listener
 * (hostile-input.test.ts) and against RequestParser (request-parser.test.ts), which must refuse
 * every 400 and 431 here with the same status (413 and 414 are the listener's limits).
 */
export const hostileRequests: [name: string, request: string, status: number][] = [
  [
    "Content-Length with Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
  ],
  [
    "conflicting Content-Length values",
    "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    400,
  ],
  [
    "a Content-Length list",
    "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5, 6\r\n\r\nhello!",
    400,
  ],
  ["an invalid header name", "GET / HTTP/1.1\r\nHost: svc\r\nBad Header: x\r\n\r\n", 400],
  [
    "a control character in a header name",
    "GET / HTTP/1.1\r\nHost: svc\r\nX\u0001Y: x\r\n\r\n",
    400,
  ],
  ["a NUL in a header value", "GET / HTTP/1.1\r\nHost: svc\r\nX-A: a\u0000b\r\n\r\n", 400],
  ["a bare LF line ending in the header block", "GET / HTTP/1.1\r\nHost: svc\nX-A: b\r\n\r\n", 400],
  ["whitespace before the colon", "GET / HTTP/1.1\r\nHost: svc\r\nX-A : b\r\n\r\n", 400],
  ["an obs-fold header line", "GET / HTTP/1.1\r\nHost: svc\r\nX-A: a\r\n b\r\n\r\n", 400],
  ["a missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400],
  [
    "an unknown Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: gzip\r\n\r\n",
    400,
  ],
  [
    "an invalid chunk size",
    "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    400,
  ],
  [
    "a header block over maxHeaderBytes",
    `GET / HTTP/1.1\r\nHost: svc\r\nX-Big: ${"a".repeat(5000)}\r\n\r\n`,
    431,
  ],
  [
    "many headers over maxHeaderBytes",
    `GET / HTTP/1.1\r\nHost: svc\r\n${"X-H: 1234567890\r\n".repeat(400)}\r\n`,
    431,
  ],
  ["a URL over maxUrlBytes", `GET /${"u".repeat(2000)} HTTP/1.1\r\nHost: svc\r\n\r\n`, 414],
  [
    "a Content-Length over maxRequestBodyBytes",
    "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5000\r\n\r\n",
    413,
  ],
];
