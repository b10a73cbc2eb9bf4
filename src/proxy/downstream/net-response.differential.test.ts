import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../transport/testing/generated-messages.ts";
import {
  exchange,
  generateScript,
  maskDate,
  netResponseServer,
  nodeHttpServer,
  type ResponseScript,
  requestBytes,
} from "./testing/response-scripts.ts";

/**
 * Differential test: generated response scripts performed on node:http's ServerResponse and on
 * NetResponse must put the same bytes on the wire (the Date value aside) and leave the
 * connection open or closed alike.
 *
 *   DIFF_SEED=7 npm run bench:differential:response-writer    # 10 000 cases
 */
const cases = Number(process.env.DIFF_CASES ?? 400);
const seed = Number(process.env.DIFF_SEED ?? 20261128);
const concurrency = 16;
const keepAliveTimeout = 5000;

test(`NetResponse writes what node:http's ServerResponse writes (${cases} cases, seed ${seed})`, async () => {
  const rand = seededRandom(seed);
  const scripts = new Map<number, ResponseScript>();
  for (let id = 0; id < cases; id++) scripts.set(id, generateScript(rand));
  const theirs = await nodeHttpServer(scripts, keepAliveTimeout);
  const ours = await netResponseServer(scripts, keepAliveTimeout);
  const failures: string[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < cases && failures.length < 5) {
        const id = next++;
        const request = requestBytes(scripts.get(id)!, id);
        const [theirBytes, ourBytes] = await Promise.all([
          exchange(theirs.port, request),
          exchange(ours.port, request),
        ]);
        const [theirOutcome, ourOutcome] = await Promise.all([
          theirs.outcome(id),
          ours.outcome(id),
        ]);
        const expected = { bytes: maskDate(theirBytes), closed: theirOutcome.closed };
        const actual = { bytes: maskDate(ourBytes), closed: ourOutcome.closed };
        try {
          assert.deepEqual(actual, expected);
        } catch (error) {
          failures.push(
            `case ${id} (seed ${seed}): ${JSON.stringify(scripts.get(id), (_, v) =>
              typeof v === "object" && v?.type === "Buffer"
                ? `<Buffer ${v.data.length}>`
                : typeof v === "string" && v.length > 200
                  ? `${v.slice(0, 100)}…<${v.length} chars>`
                  : v,
            )}\n${(error as Error).message.slice(0, 3000)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await Promise.all([theirs.close(), ours.close()]);
  }
  assert.deepEqual(failures, []);
});
