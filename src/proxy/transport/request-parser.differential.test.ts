import assert from "node:assert/strict";
import { test } from "node:test";
import { documentedException } from "./testing/documented-exception.ts";
import { caseMaxHeaderBytes, generateRequestBytes, seededRandom } from "./testing/request-cases.ts";
import { RequestOracle, type RequestOutcome } from "./testing/request-oracle.ts";
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
