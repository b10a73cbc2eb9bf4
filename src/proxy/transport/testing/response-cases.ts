/**
 * Generated and mutated upstream responses for the differential test of ResponseParser against
 * llhttp: header orders, duplicate and malformed framing fields, chunk extensions, bad sizes,
 * obs-fold, control bytes, 1xx sequences and bytes after the body. Deterministic per seed.
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

export interface ResponseCase {
  /** The request method the response answers (HEAD responses have no body). */
  method: "GET" | "HEAD";
  bytes: Buffer;
  /** Bytes follow a response framed exactly (no mutation, a true length or plain chunked). */
  trailing: boolean;
}

const versions = [
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/2.0",
  "HTTP/1.2",
  "HTTP/0.9",
];
const finals = [200, 200, 200, 201, 204, 304, 404, 500, 503, 299, 999, 99, 0];
const interims = [100, 103, 102, 150, 199, 101];
const reasons = ["OK", "", "Fine Thanks", "O\u0001K", "\u00e9t\u00e9", "tab\there"];
const contentLengths = [
  "5",
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
];
const codings = [
  "chunked",
  "CHUNKED",
  "Chunked ",
  "gzip, chunked",
  "chunked, chunked",
  ",chunked",
  "chunked ,",
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
  ";a;b=c",
  ";",
  "; a=b",
  ";a b",
  ';a="b\u0001"',
  " ",
  ";a\nb",
];
const otherFields = [
  ["Content-Type", "text/plain"],
  ["Set-Cookie", "a=1"],
  ["Set-Cookie", "b=2"],
  ["X-Empty", ""],
  ["X-Obs", "caf\u00e9"],
  ["Connection", "close"],
  ["Connection", "keep-alive"],
  ["Keep-Alive", "timeout=5"],
  ["Trailer", "X-Sum"],
] as const;
const trailerFields = [
  "X-Sum: 1",
  "X-Other: two words",
  "Content-Length: 9",
  "Transfer-Encoding: chunked",
  "Connection: close",
  "Bad Name: x",
  "X-Ctl: a\u0001",
  " folded",
];

const body = (rand: Rand) => messageBody(rand, 12, "HTTP/1.1 200 OK\r\n");
const chunked = (rand: Rand) =>
  chunkedBody(rand, {
    body: () => body(rand),
    badSizes: ["zz", "", "fffffffffffffffff", "-1"],
    extensions,
    trailerFields,
  });

function head(rand: Rand, status: number, fields: string[][]): string {
  const version = chance(rand, 0.9) ? "HTTP/1.1" : pick(rand, versions);
  const reason = chance(rand, 0.9) ? "OK" : pick(rand, reasons);
  const line = chance(rand, 0.05) ? `${version} ${status}` : `${version} ${status} ${reason}`;
  return `${line}\r\n${fields.map(([n, v]) => `${n}:${chance(rand, 0.9) ? " " : ""}${v}`).join("\r\n")}${fields.length ? "\r\n" : ""}\r\n`;
}

/** One generated response (a few 1xx maybe, a final response, maybe bytes after it). */
export function generateCase(rand: Rand): ResponseCase {
  const method = chance(rand, 0.1) ? "HEAD" : "GET";
  let text = "";
  const interimCount = chance(rand, 0.2) ? 1 + Math.floor(rand() * 2) : 0;
  for (let i = 0; i < interimCount; i++) {
    const fields: string[][] = chance(rand, 0.5) ? [["Link", "</a.css>; rel=preload"]] : [];
    if (chance(rand, 0.2)) fields.push(["Content-Length", pick(rand, contentLengths)]);
    if (chance(rand, 0.1)) fields.push(["Transfer-Encoding", pick(rand, codings)]);
    text += head(rand, chance(rand, 0.95) ? pick(rand, interims.slice(0, 5)) : 101, fields);
  }
  const status = chance(rand, 0.85) ? 200 : pick(rand, finals);
  const payload = body(rand);
  const fields: string[][] = [];
  for (let i = Math.floor(rand() * 3); i > 0; i--) fields.push([...pick(rand, otherFields)]);
  const mode = pick(rand, ["length", "length", "chunked", "chunked", "both", "none", "dupes"]);
  let rest = "";
  let exact = false;
  const length = String(Buffer.byteLength(payload, "latin1"));
  if (mode === "length" || mode === "dupes") {
    exact = mode === "length" && chance(rand, 0.8);
    fields.push(["Content-Length", exact ? length : pick(rand, contentLengths)]);
    if (mode === "dupes")
      fields.push(["Content-Length", chance(rand, 0.5) ? length : pick(rand, contentLengths)]);
    rest = payload;
  } else if (mode === "chunked" || mode === "both") {
    exact = mode === "chunked" && chance(rand, 0.7);
    fields.push(["Transfer-Encoding", exact ? "chunked" : pick(rand, codings)]);
    if (mode === "both") fields.push(["Content-Length", pick(rand, contentLengths)]);
    if (chance(rand, 0.05)) {
      exact = false;
      fields.push(["Transfer-Encoding", pick(rand, codings)]);
    }
    rest = chunked(rand);
  } else rest = payload;
  text += head(rand, status, shuffle(rand, fields)) + rest;
  const appended = chance(rand, 0.1);
  if (appended)
    text += pick(rand, [
      "XX",
      "\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged",
      "0\r\n\r\n",
    ]);
  const mutations = chance(rand, 0.25) ? 1 + Math.floor(rand() * 2) : 0;
  for (let i = mutations; i > 0; i--) text = mutate(rand, text);
  const trailing = appended && exact && mutations === 0;
  return { method, bytes: Buffer.from(text, "latin1"), trailing };
}
