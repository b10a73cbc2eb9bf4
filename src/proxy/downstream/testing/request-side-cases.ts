/**
 * Connections for the end-to-end differential test of the listener's two request sides: the
 * parser's generated and mutated requests, and requests that mix the node:net fast path with
 * the hand-off to node:http on one connection (chunked bodies, Expect, Upgrade), HTTP/1.0 with
 * and without keep-alive, HEAD, Content-Length bodies, `Connection: close` mid-pipeline, and
 * bodies the proxy does not read (no route: 404; over maxRequestBodyBytes: 413) before another
 * request. Deterministic per seed.
 */
import { chance, pick, type Rand } from "../../transport/testing/generated-messages.ts";
import { generateRequestBytes } from "../../transport/testing/request-cases.ts";

/** The listener's maxRequestBodyBytes in the test: some generated bodies cross it. */
export const caseMaxRequestBodyBytes = 100;

/** A request with this header matches no route (404). */
export const noRouteHeader = "X-No-Route";

export interface SideCase {
  /** What kind of connection it is (for the summary and a failure's report). */
  kind: string;
  bytes: Buffer;
}

const paths = ["/", "/a/b?c=d", "/x", "/%41b"];
const body = (rand: Rand, n = Math.floor(rand() * 40)) =>
  Array.from({ length: n }, () => pick(rand, ["a", "b", "\r\n", "0", "GET / HTTP/1.1\r\n"])).join(
    "",
  );

/** Chunked framing of `data` in one to three chunks, with trailers now and then. */
function chunked(rand: Rand, data: string): string {
  let out = "";
  let rest = data;
  while (rest.length > 0) {
    const n = Math.max(1, Math.floor(rand() * rest.length));
    out += `${n.toString(16)}${chance(rand, 0.2) ? ";ext=1" : ""}\r\n${rest.slice(0, n)}\r\n`;
    rest = rest.slice(n);
  }
  return `${out}0\r\n${chance(rand, 0.3) ? "X-Sum: 1\r\n" : ""}\r\n`;
}

/** One request of a mixed connection. */
const snippets: Record<string, (rand: Rand) => string> = {
  get: (rand) => `GET ${pick(rand, paths)} HTTP/1.1\r\nHost: svc\r\n\r\n`,
  head: (rand) => `HEAD ${pick(rand, paths)} HTTP/1.1\r\nHost: svc\r\n\r\n`,
  "post-length": (rand) => {
    const data = body(rand, 1 + Math.floor(rand() * 30));
    return `POST ${pick(rand, paths)} HTTP/1.1\r\nHost: svc\r\nContent-Length: ${data.length}\r\n\r\n${data}`;
  },
  "put-empty": () => "PUT /x HTTP/1.1\r\nHost: svc\r\nContent-Length: 0\r\n\r\n",
  "post-chunked": (rand) =>
    `POST ${pick(rand, paths)} HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(rand, body(rand))}`,
  "expect-continue": (rand) => {
    const data = body(rand, 1 + Math.floor(rand() * 20));
    return `POST /x HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: ${data.length}\r\n\r\n${data}`;
  },
  // The app answers 200, not 101: the upgrade is refused and the connection closes.
  upgrade: () =>
    "GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  "http10-close": (rand) => `GET ${pick(rand, paths)} HTTP/1.0\r\nHost: svc\r\n\r\n`,
  "http10-keep-alive": (rand) =>
    `GET ${pick(rand, paths)} HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\n`,
  "http10-post": (rand) => {
    const data = body(rand, 1 + Math.floor(rand() * 20));
    return `POST /x HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\nContent-Length: ${data.length}\r\n\r\n${data}`;
  },
  "connection-close": () => "GET /x HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
  "no-route-with-body": (rand) => {
    const data = body(rand, 1 + Math.floor(rand() * 60));
    return `POST /x HTTP/1.1\r\nHost: svc\r\n${noRouteHeader}: 1\r\nContent-Length: ${data.length}\r\n\r\n${data}`;
  },
  "too-large-body": (rand) => {
    const data = "z".repeat(caseMaxRequestBodyBytes + 1 + Math.floor(rand() * 50));
    return `POST /x HTTP/1.1\r\nHost: svc\r\nContent-Length: ${data.length}\r\n\r\n${data}`;
  },
};

/** The mixes the brief names, always in the cases; the rest are random sequences. */
const fixedMixes = [
  ["get", "post-chunked", "get"],
  ["get", "expect-continue", "get"],
  ["get", "upgrade", "get"],
  ["http10-close", "get"],
  ["http10-keep-alive", "get"],
  ["http10-post", "get"],
  ["head", "get"],
  ["post-length", "get"],
  ["get", "connection-close", "get"],
  ["no-route-with-body", "get"],
  ["too-large-body", "get"],
];

/** A mixed connection: 1–4 snippets (the fixed mixes first, in order). */
function mixedCase(rand: Rand, index: number): SideCase {
  const names =
    index < fixedMixes.length
      ? fixedMixes[index]!
      : Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(rand, Object.keys(snippets)));
  const text = names.map((name) => snippets[name]!(rand)).join("");
  return { kind: `mixed: ${names.join(", ")}`, bytes: Buffer.from(text, "latin1") };
}

/**
 * `count` connections: the fixed mixes, then a random two-thirds of generated (parser
 * differential) connections and one third of random mixes.
 */
export function requestSideCases(rand: Rand, count: number): SideCase[] {
  const cases: SideCase[] = [];
  let mixed = 0;
  for (let i = 0; i < count; i++) {
    if (mixed < fixedMixes.length || chance(rand, 1 / 3)) cases.push(mixedCase(rand, mixed++));
    else cases.push({ kind: "generated", bytes: generateRequestBytes(rand) });
  }
  return cases;
}
