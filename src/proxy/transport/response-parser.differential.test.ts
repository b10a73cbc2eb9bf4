import assert from "node:assert/strict";
import { test } from "node:test";
import { LlhttpOracle, type ParseOutcome, parseWithOurs } from "./testing/parse-outcome.ts";
import { generateCase, type ResponseCase, seededRandom } from "./testing/response-cases.ts";

/**
 * Differential test: generated and mutated responses parsed by ResponseParser and by llhttp
 * (node:http's client) must get the same verdict and, when accepted, the same interim statuses,
 * status, headers, body and trailers. Where the proxy is deliberately stricter (docs/proxy.md,
 * "Upstream response framing"), `documentedException` names the rule.
 *
 *   DIFF_SEED=7 npm run bench:differential    # 100 000 cases, for the bench machine
 */
const cases = Number(process.env.DIFF_CASES ?? 2000);
const seed = Number(process.env.DIFF_SEED ?? 20261127);
const concurrency = 16;

/** Why ours may refuse what llhttp accepts; undefined when the difference is a bug. */
function documentedException(c: ResponseCase, ours: ParseOutcome): string | undefined {
  const error = ours.error ?? "";
  const text = c.bytes.toString("latin1");
  if (/^unsupported Transfer-Encoding/.test(error))
    return "Transfer-Encoding other than exactly chunked";
  if (/^101 Switching/.test(error)) return "101 without an Upgrade request";
  if (error === "invalid reason phrase") return "control character in the reason phrase";
  if (
    error === "invalid status line" &&
    /(?:^|\n)HTTP\/(?!1\.[01] )\d\.\d \d{3}|(?:^|\n)HTTP\/1\.[01] 0\d\d/.test(text)
  )
    return "HTTP version other than 1.0/1.1, or a status below 100";
  if (
    /invalid Content-Length|invalid chunk size/.test(error) &&
    /(?:Content-Length: *\d{16,}|\n[0-9a-fA-F]{14,}[;\r])/i.test(text)
  )
    return "length above 2^53 - 1";
  if (error === "invalid chunk size line" && /\n[0-9a-fA-F]+[^\r\n]*;[;=]/.test(text))
    return "an empty chunk-extension name (;; or ;=v)";
  return undefined;
}

function describeCase(c: ResponseCase, ours: ParseOutcome, theirs: ParseOutcome): string {
  return `seed ${seed}, ${c.method} ${JSON.stringify(c.bytes.toString("latin1"))}\n  ours:   ${JSON.stringify(ours)}\n  llhttp: ${JSON.stringify(theirs)}`;
}

test(`ResponseParser agrees with llhttp on ${cases} generated responses (seed ${seed})`, async () => {
  const rand = seededRandom(seed);
  const generated = Array.from({ length: cases }, () => generateCase(rand));
  const oracle = await LlhttpOracle.start();
  const failures: string[] = [];
  const exceptions = new Map<string, number>();
  let accepted = 0;
  try {
    for (let i = 0; i < generated.length; i += concurrency) {
      const batch = generated.slice(i, i + concurrency);
      const theirs = await Promise.all(batch.map((c) => oracle.parse(c)));
      batch.forEach((c, j) => {
        const ours = parseWithOurs(c, rand);
        const other = theirs[j]!;
        if (ours.accepted !== other.accepted) {
          const why = !ours.accepted ? documentedException(c, ours) : undefined;
          if (why) exceptions.set(why, (exceptions.get(why) ?? 0) + 1);
          else failures.push(describeCase(c, ours, other));
          return;
        }
        if (!ours.accepted) return;
        accepted += 1;
        const same =
          ours.status === other.status &&
          JSON.stringify(ours.info) === JSON.stringify(other.info) &&
          JSON.stringify(ours.headers) === JSON.stringify(other.headers) &&
          ours.body === other.body &&
          JSON.stringify(ours.trailers) === JSON.stringify(other.trailers);
        if (!same) failures.push(describeCase(c, ours, other));
        // Bytes after the body make the connection unusable: at once, or when they arrive.
        else if (c.trailing && ours.keepAlive && ours.error === undefined)
          failures.push(`bytes after the body, yet reusable: ${describeCase(c, ours, other)}`);
      });
      if (failures.length >= 10) break;
    }
  } finally {
    oracle.close();
  }
  console.log(
    `accepted by both: ${accepted}; documented exceptions: ${JSON.stringify([...exceptions])}`,
  );
  assert.deepEqual(failures, [], `${failures.length} differences:\n${failures.join("\n")}`);
  assert.ok(accepted > cases / 4, "most generated responses are valid");
});
