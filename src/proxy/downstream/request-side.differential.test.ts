import assert from "node:assert/strict";
import { test } from "node:test";
import { startProxy, type TestProxy } from "../testing.ts";
import { caseMaxHeaderBytes, seededRandom } from "../transport/testing/request-cases.ts";
import { RequestOracle } from "../transport/testing/request-oracle.ts";
import { parseWithOurs } from "../transport/testing/request-outcome.ts";
import { EchoUpstream } from "./testing/echo-upstream.ts";
import { playCase } from "./testing/play-case.ts";
import {
  caseMaxRequestBodyBytes,
  noRouteHeader,
  requestSideCases,
  type SideCase,
} from "./testing/request-side-cases.ts";
import { describe, side, verdict } from "./testing/side-verdict.ts";

/**
 * Differential test of the listener end to end: each connection's bytes go to a proxy whose
 * plain listener reads requests on node:net (the default) and to one that reads them all with
 * node:http (llhttp), both in front of one app that echoes every request it receives, on fresh
 * connections split at the same points. What the client got back (responses, whether the
 * connection closed) and what the app saw (the echoed bytes) must be the same once masked,
 * or differ by a named rule (testing/side-verdict.ts, docs/proxy.md "Request parsing").
 *
 *   DIFF_CASES=5000 DIFF_SEED=7 npm run bench:differential:request-side
 */
const cases = Number(process.env.DIFF_CASES ?? 300);
const seed = Number(process.env.DIFF_SEED ?? 20261128);
const concurrency = 24;
/** A connection is read until the proxy closes it or sends nothing for this long… */
const quietMs = 150;
/** …and a case that differs is played again with this, before it counts as a difference. */
const patientQuietMs = 1000;

const listenerConfig = (upstreamPort: number) => ({
  listeners: [
    {
      address: "127.0.0.1:0",
      maxHeaderBytes: caseMaxHeaderBytes,
      maxRequestBodyBytes: caseMaxRequestBodyBytes,
      routes: [
        {
          match: { prefix: "/", headers: [{ name: noRouteHeader, present: false }] },
          cluster: "app",
        },
      ],
    },
  ],
  upstreamPort,
});

/** The listener's gauges: requests in flight and connections open. */
interface Gauges {
  requests: number;
  connections: number;
}

async function gauges(proxy: TestProxy): Promise<Gauges> {
  const text = await proxy.registry.metrics();
  const read = (name: string) =>
    Number(new RegExp(`^sidecar_proxy_active_${name}\\{[^}]*\\} (\\d+)$`, "m").exec(text)?.[1]);
  return { requests: read("requests"), connections: read("connections") };
}

/**
 * What is held once every client has left (waiting, bounded, for the closes to reach both
 * listeners): a request counted in flight on either side, or connections open on the node:net
 * side beyond node:http's (both may hold one through node:http a little longer: a refused
 * upgrade reads what follows its head until the client closes, see docs/proxy.md).
 */
async function heldAfter(net: TestProxy, node: TestProxy): Promise<string | undefined> {
  const held = (a: Gauges, b: Gauges) =>
    a.requests > 0 || b.requests > 0 || a.connections > b.connections;
  let [a, b] = [await gauges(net), await gauges(node)];
  for (let i = 0; i < 50 && held(a, b); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    [a, b] = [await gauges(net), await gauges(node)];
  }
  return held(a, b)
    ? `node:net side holds ${JSON.stringify(a)}, node:http's ${JSON.stringify(b)}`
    : undefined;
}

test(`the listener's two request sides agree end to end on ${cases} connections (seed ${seed})`, async () => {
  const rand = seededRandom(seed);
  const generated = requestSideCases(rand, cases);
  const upstream = await EchoUpstream.start();
  let net: TestProxy | undefined;
  let node: TestProxy | undefined;
  let oracle: RequestOracle | undefined;
  const failures: string[] = [];
  const rules = new Map<string, number>();
  const tally = { same: 0, closedBoth: 0, responses: 0, replayed: 0 };
  try {
    net = await startProxy(listenerConfig(upstream.port), { requestSide: "net" });
    node = await startProxy(listenerConfig(upstream.port), { requestSide: "node" });
    const ports = [net.port, node.port] as const;
    const parser = async (bytes: Buffer, cuts: number[]) => {
      oracle ??= await RequestOracle.start(caseMaxHeaderBytes);
      return {
        ours: parseWithOurs(bytes, cuts, { maxHeaderBytes: caseMaxHeaderBytes }),
        theirs: await oracle.parse(bytes),
      };
    };
    const play = async (bytes: Buffer, cuts: number[], quiet: number) => {
      const [a, b] = await Promise.all(ports.map((port) => playCase(port, bytes, cuts, quiet)));
      return [side(a!), side(b!)] as const;
    };
    const run = async ({ kind, bytes }: SideCase, cuts: number[]) => {
      let [a, b] = await play(bytes, cuts, quietMs);
      let result = await verdict(bytes, a, b, () => parser(bytes, cuts));
      if (result.kind === "different") {
        // A slow turn of the shared machine is no difference: once more, with patience.
        tally.replayed += 1;
        [a, b] = await play(bytes, cuts, patientQuietMs);
        result = await verdict(bytes, a, b, () => parser(bytes, cuts));
      }
      if (result.kind === "same") {
        tally.same += 1;
        tally.responses += a.stream.responses.length;
        if (a.played.closed) tally.closedBoth += 1;
      } else if (result.kind === "allowed")
        rules.set(result.rule, (rules.get(result.rule) ?? 0) + 1);
      else failures.push(describe(kind, bytes, cuts, a, b));
    };
    for (let i = 0; i < generated.length && failures.length < 10; i += concurrency) {
      const batch = generated.slice(i, i + concurrency);
      // Up to three cuts per case, drawn from the seed in case order (a failure is reproduced
      // by its seed).
      const cuts = batch.map(({ bytes }) => {
        const points = Array.from({ length: Math.floor(rand() * 4) }, () =>
          Math.floor(rand() * bytes.length),
        );
        return [...new Set(points)].sort((x, y) => x - y);
      });
      await Promise.all(batch.map((c, j) => run(c, cuts[j]!)));
      if (process.env.DIFF_CHECK_EACH_BATCH) {
        const held = await heldAfter(net, node);
        if (held)
          failures.push(
            `${held} after:\n${batch.map((c, j) => `  ${JSON.stringify(c.bytes.toString("latin1"))} cuts [${cuts[j]}]`).join("\n")}`,
          );
      }
    }
    // Every client has left: no request is in flight on either side.
    const held = await heldAfter(net, node);
    if (held) failures.push(`${held} (DIFF_CHECK_EACH_BATCH=1 finds the case)`);
  } finally {
    oracle?.close();
    // A short drain: a side that still holds a request (a failure above) need not wait 5 s.
    await Promise.all([net?.stop(), node?.role.stop(AbortSignal.timeout(200))]);
    await upstream.close();
  }
  console.log(
    `same: ${tally.same} (${tally.responses} responses, ${tally.closedBoth} closed by both); played twice: ${tally.replayed}; allowed: ${JSON.stringify([...rules])}`,
  );
  assert.equal(failures.length, 0, `${failures.length} differences:\n${failures.join("\n")}`);
  assert.ok(tally.same > cases / 3, "most connections get the same answers");
});
