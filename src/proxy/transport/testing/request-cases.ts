/**
 * Generated and mutated downstream requests for the differential test of RequestParser against
 * llhttp: methods, target forms, versions, Host, framing fields (duplicate, conflicting,
 * malformed), chunk sizes and extensions, trailers, obs-fold, bare CR/LF, control bytes,
 * oversized heads and pipelined requests. Deterministic per seed.
 */
import {
  chance,
  chunkedBody,
  messageBody,
  mutate,
  pick,
  type Rand,
  shuffle,
} from "./generated-messages.ts";

export { seededRandom } from "./generated-messages.ts";

/** The maxHeaderBytes both parsers run with: small, so that generated heads cross it. */
export const caseMaxHeaderBytes = 600;

const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "QUERY"];
const oddMethods = ["get", "FOO", "PRI", "G\tET", "GET\u0000", "CONNECT", "M-SEARCH", ""];
const targets = ["/", "/a/b?c=d", "/%20x", "/a;b", "//x", "/?q=a+b&c"];
const oddTargets = [
  "*",
  "http://example.com/x",
  "https://a.example:8443",
  "HTTP://a/",
  "ftp://a/b",
  "example.com:443",
  "a",
  "/a b",
  "/a\tb",
  "/\u00e9",
  "/\u007f",
  "/#frag",
  '/"<>{}|\\^`',
  "",
  "http://[::1]:80/",
  "http://user@host/",
  "http://host:99999/?",
  "http:/x",
  "http://",
  "[::1]:443",
  "example.com:",
  "example.com:443/x",
];
const versions = [
  "HTTP/1.0",
  "HTTP/2.0",
  "HTTP/0.9",
  "HTTP/1.2",
  "http/1.1",
  "HTTP/11",
  "HTTP/1.1 ",
];
const contentLengths = [
  "05",
  " 5 ",
  "+5",
  "-1",
  "5, 5",
  "0x5",
  "",
  "3",
  "0",
  "7",
  "99999999999999999999",
  "9007199254740992",
];
const codings = [
  "chunked",
  "CHUNKED",
  "chunked ",
  "chunked\t",
  "gzip, chunked",
  "chunked, chunked",
  ",chunked",
  "chunked, gzip",
  "identity",
  "gzip",
  "chunked;q=1",
  "",
];
const extensions = [
  ";a=b",
  ";a",
  ";a=",
  ';a="b c"',
  ";",
  "; a=b",
  ";a b",
  ';a="b\u0001"',
  " ",
  "\t",
];
const otherFields = [
  ["User-Agent", "curl/8"],
  ["Accept", "*/*"],
  ["X-Empty", ""],
  ["X-Obs", "caf\u00e9"],
  ["X-Tab", "a\tb"],
  ["Connection", "close"],
  ["Connection", "keep-alive"],
  ["Connection", "Keep-Alive, Upgrade"],
  ["Connection", "upgrade"],
  ["Connection", "closer"],
  ["Connection", "close\t, x"],
  ["Connection", ",,close"],
  ["Upgrade", "websocket"],
  ["Expect", "100-continue"],
  ["Expect", "200-ok"],
  ["Cookie", "a=1"],
  // Repeated fields: how node:http joins, drops or lists them in req.headers.
  ["cookie", "b=2"],
  ["user-agent", "wget"],
  ["Set-Cookie", "s=1"],
  ["set-cookie", "t=2"],
  ["X-Dup", "1"],
  ["x-dup", "2"],
  ["Authorization", "Basic a"],
  ["authorization", "Basic b"],
  ["constructor", "c"],
  ["__proto__", "p"],
] as const;
const trailerFields = [
  "X-Sum: 1",
  "X-Other: two words",
  "Content-Length: 9",
  "Transfer-Encoding: chunked",
  "Host: x",
  "Bad Name: x",
  "X-Ctl: a\u0001",
  " folded",
  `X-Long: ${"t".repeat(590)}`,
];

const body = (rand: Rand) => messageBody(rand, 10, "GET / HTTP/1.1\r\n");
const chunked = (rand: Rand) =>
  chunkedBody(rand, {
    body: () => body(rand),
    badSizes: ["zz", "", "fffffffffffffffff", "-1", "+1", "0x1"],
    extensions,
    trailerFields,
  });

/** One request: its bytes (head and body). */
function request(rand: Rand): string {
  const method = chance(rand, 0.95) ? pick(rand, methods) : pick(rand, oddMethods);
  let target = chance(rand, 0.9) ? pick(rand, targets) : pick(rand, oddTargets);
  if (method === "CONNECT" && chance(rand, 0.7)) target = "example.com:443";
  const version = chance(rand, 0.92) ? "HTTP/1.1" : pick(rand, versions);
  const fields: string[][] = [];
  if (chance(rand, 0.95)) fields.push(["Host", "example.com"]);
  if (chance(rand, 0.03)) fields.push(["Host", "other.example"]);
  for (let i = Math.floor(rand() * 3); i > 0; i--) fields.push([...pick(rand, otherFields)]);
  if (chance(rand, 0.04)) fields.push(["X-Big", "x".repeat(400 + Math.floor(rand() * 300))]);
  const payload = body(rand);
  const length = String(Buffer.byteLength(payload, "latin1"));
  const mode = pick(rand, [
    "none",
    "none",
    "length",
    "length",
    "chunked",
    "chunked",
    "both",
    "dupes",
  ]);
  let rest = "";
  if (mode === "length" || mode === "dupes") {
    fields.push(["Content-Length", chance(rand, 0.85) ? length : pick(rand, contentLengths)]);
    if (mode === "dupes")
      fields.push(["Content-Length", chance(rand, 0.5) ? length : pick(rand, contentLengths)]);
    rest = payload;
  } else if (mode === "chunked" || mode === "both") {
    fields.push(["Transfer-Encoding", chance(rand, 0.8) ? "chunked" : pick(rand, codings)]);
    if (mode === "both") fields.push(["Content-Length", pick(rand, contentLengths)]);
    if (chance(rand, 0.05)) fields.push(["Transfer-Encoding", pick(rand, codings)]);
    rest = chunked(rand);
  } else if (chance(rand, 0.1)) rest = payload;
  const line = `${method} ${target} ${version}`;
  const sep = () => (chance(rand, 0.9) ? ": " : pick(rand, [":", ":  ", ":\t", " : "]));
  const head = shuffle(rand, fields)
    .map(([n, v]) => `${n}${sep()}${v}\r\n`)
    .join("");
  return `${line}\r\n${head}\r\n${rest}`;
}

/** One connection's bytes: one to three pipelined requests, maybe damaged, maybe with a tail. */
export function generateRequestBytes(rand: Rand): Buffer {
  let text = chance(rand, 0.05) ? pick(rand, ["\r\n", "\n", "\r\n\r\n"]) : "";
  const count = chance(rand, 0.8) ? 1 : 2 + Math.floor(rand() * 2);
  for (let i = 0; i < count; i++) text += request(rand);
  if (chance(rand, 0.05)) text += pick(rand, ["\r\n", "XX", "GET / HTTP/1.1\r\nHost: a\r\n"]);
  const mutations = chance(rand, 0.25) ? 1 + Math.floor(rand() * 2) : 0;
  for (let i = mutations; i > 0; i--) text = mutate(rand, text);
  return Buffer.from(text, "latin1");
}
