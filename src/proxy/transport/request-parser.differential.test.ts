import assert from "node:assert/strict";
import { test } from "node:test";
import { caseMaxHeaderBytes, generateRequestBytes, seededRandom } from "./testing/request-cases.ts";
import {
  type ParsedRequest,
  RequestOracle,
  type RequestOutcome,
} from "./testing/request-oracle.ts";
import { parseWithOurs } from "./testing/request-outcome.ts";

/**
 * Differential test: generated and mutated requests (pipelined, split anywhere) parsed by
 * RequestParser and by llhttp (a node:http server with the listener's options) must get the
 * same verdict and the same parsed requests. Where ours is deliberately stricter
 * (docs/proxy.md, "Request parsing"), `documentedException` names the rule.
 *
 *   DIFF_SEED=7 npm run bench:differential:request    # 100 000 cases
 */
const cases = Number(process.env.DIFF_CASES ?? 2000);
const seed = Number(process.env.DIFF_SEED ?? 20261128);
const concurrency = 16;

/** One Transfer-Encoding line, `chunked` in any case: what ours takes. */
const chunkedOnly = (r: ParsedRequest) => {
  const values = r.rawHeaders.filter(
    (_, i) => i % 2 === 1 && r.rawHeaders[i - 1]!.toLowerCase() === "transfer-encoding",
  );
  return values.length === 1 && values[0]!.toLowerCase() === "chunked";
};

const has = (r: ParsedRequest, name: string) =>
  r.rawHeaders.filter((v, i) => i % 2 === 0 && v.toLowerCase() === name).length;

/**
 * Why ours may refuse what llhttp accepts: the rule (docs/proxy.md, "Request parsing"), checked
 * against the request llhttp parsed where ours stopped; undefined when the difference is a bug.
 */
function documentedException(
  text: string,
  ours: RequestOutcome,
  other: RequestOutcome,
): string | undefined {
  const last = ours.requests.at(-1);
  if (ours.error === "DATA_AFTER_CLOSE")
    return last?.httpVersion === "1.0" && has(last, "transfer-encoding") > 0
      ? "HTTP/1.0 with Transfer-Encoding closes the connection"
      : undefined;
  const r = other.requests[ours.requests.length];
  if (!r) return undefined;
  // llhttp takes runs of SP between the parts, and a line without a version as HTTP/0.9.
  const requestLine =
    /(?:^|\n)[A-Z-]+(?: {2}| [^ \r\n]* {2})/.test(text) || r.httpVersion === "0.9";
  switch (ours.error) {
    case "INVALID_METHOD":
      return r.method === "PRI" ? "PRI (the HTTP/2 preface's method)" : undefined;
    case "UNSUPPORTED_VERSION":
      return r.httpVersion === "0.9" || r.httpVersion === "2.0"
        ? "HTTP/0.9 and HTTP/2.0 request lines"
        : undefined;
    case "BARE_CR_OR_LF":
    case "INVALID_VERSION":
      return requestLine ? "request line other than method SP target SP HTTP/1.x" : undefined;
    case "INVALID_TARGET":
      if (requestLine) return "request line other than method SP target SP HTTP/1.x";
      return (r.url === "*" && r.method !== "OPTIONS") ||
        r.method === "CONNECT" ||
        /^[A-Za-z][A-Za-z0-9+.-]*:/.test(r.url)
        ? "request-target form checked against the method"
        : undefined;
    case "UNSUPPORTED_TRANSFER_ENCODING":
    case "INVALID_TRANSFER_ENCODING":
      // llhttp does not check the framing of an upgrade or CONNECT head (it reads no body).
      return has(r, "transfer-encoding") > 0 && (!chunkedOnly(r) || r.upgrade)
        ? "Transfer-Encoding other than exactly chunked"
        : undefined;
    case "DUPLICATE_HOST":
      return has(r, "host") > 1 ? "more than one Host" : undefined;
    case "MISSING_HOST":
      // node:http checks Host only for the requests it emits as 'request'.
      return has(r, "host") === 0 && r.upgrade
        ? "HTTP/1.1 without Host, also for upgrade and CONNECT"
        : undefined;
    case "INVALID_CONTENT_LENGTH":
      return r.rawHeaders.some((v, i) => i % 2 === 1 && /^\d{16,}$/.test(v))
        ? "length above 2^53 - 1"
        : undefined;
    case "INVALID_CHUNK":
      return /\n[0-9a-fA-F]{14,}[;\r]/.test(text) ? "length above 2^53 - 1" : undefined;
    case "HEADERS_TOO_LARGE":
      return text.length > 2 * caseMaxHeaderBytes + 1024
        ? "raw head over 2 x maxHeaderBytes + 1 KiB"
        : undefined;
    default:
      return undefined;
  }
}

const same = (a: RequestOutcome["requests"], b: RequestOutcome["requests"]) =>
  JSON.stringify(a) === JSON.stringify(b);

test(`RequestParser agrees with llhttp on ${cases} generated connections (seed ${seed})`, async () => {
  const rand = seededRandom(seed);
  const generated = Array.from({ length: cases }, () => generateRequestBytes(rand));
  const oracle = await RequestOracle.start(caseMaxHeaderBytes);
  const failures: string[] = [];
  const exceptions = new Map<string, number>();
  let accepted = 0;
  let refused = 0;
  try {
    for (let i = 0; i < generated.length; i += concurrency) {
      const batch = generated.slice(i, i + concurrency);
      const theirs = await Promise.all(batch.map((bytes) => oracle.parse(bytes)));
      batch.forEach((bytes, j) => {
        const cuts = [Math.floor(rand() * bytes.length), Math.floor(rand() * bytes.length)].sort(
          (a, b) => a - b,
        );
        const ours = parseWithOurs(bytes, cuts, { maxHeaderBytes: caseMaxHeaderBytes });
        const other = theirs[j]!;
        const describe = () =>
          `seed ${seed}, cuts ${cuts}, ${JSON.stringify(bytes.toString("latin1"))}\n  ours:   ${JSON.stringify(ours)}\n  llhttp: ${JSON.stringify(other)}`;
        // Every request both parsed must be the same, in the same order.
        const n = Math.min(ours.requests.length, other.requests.length);
        if (!same(ours.requests.slice(0, n), other.requests.slice(0, n))) {
          failures.push(describe());
          return;
        }
        if (ours.requests.length === other.requests.length && !ours.error === !other.error) {
          // Both refused: the codes may differ, as each reports the first defect it meets.
          if (ours.error) refused += 1;
          else accepted += 1;
          return;
        }
        // Bytes that end inside a request are no verdict on it; node:http does not always
        // report them (not after an HTTP/1.0 keep-alive request).
        if (ours.error === "INCOMPLETE" && !other.error && ours.requests.length === n) return;
        // Ours stopped earlier (fewer requests, or an error llhttp did not raise): stricter.
        const stricter = ours.error !== undefined && ours.requests.length <= other.requests.length;
        const why = stricter
          ? documentedException(bytes.toString("latin1"), ours, other)
          : undefined;
        if (why) exceptions.set(why, (exceptions.get(why) ?? 0) + 1);
        else failures.push(describe());
      });
      if (failures.length >= 10) break;
    }
  } finally {
    oracle.close();
  }
  console.log(
    `accepted by both: ${accepted}; refused by both: ${refused}; documented exceptions: ${JSON.stringify([...exceptions])}`,
  );
  assert.deepEqual(failures, [], `${failures.length} differences:\n${failures.join("\n")}`);
  assert.ok(accepted > cases / 5, "most generated requests are valid");
});
