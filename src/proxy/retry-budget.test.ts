import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { test } from "node:test";
import { rawRequest, rawUpstream, startProxy } from "./testing.ts";

/** Polls `condition` every 5 ms until it holds (rejects after 10 s). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never: ${what}`);
}

test("a retry storm stays within the budget: every retry is admitted by it, not only a request's first", async () => {
  const requests = 40;
  const budgetPercent = 10;
  const minRetryConcurrency = 0;
  const maxRetries = 4;
  // The upstream holds every try until the test fails them all at once, wave after wave.
  const held: Socket[] = [];
  let hits = 0;
  const upstream = await rawUpstream((socket, received) => {
    const seen = socket as Socket & { counted?: boolean };
    if (seen.counted || !received.includes("\r\n\r\n")) return;
    seen.counted = true;
    hits += 1;
    held.push(socket);
  });
  const proxy = await startProxy({
    listeners: [
      {
        address: "127.0.0.1:0",
        routes: [
          {
            cluster: "app",
            timeoutSeconds: 0,
            retries: {
              maxRetries,
              budgetPercent,
              minRetryConcurrency,
              backoffBaseSeconds: 0.001,
              backoffMaxSeconds: 0.001,
            },
          },
        ],
      },
    ],
    clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
  });
  const cluster = proxy.role.clusters.get("app")!;
  let answered = 0;
  const responses = Array.from({ length: requests }, () =>
    rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n").then(
      (res) => {
        answered += 1;
        return res;
      },
    ),
  );
  try {
    await until(() => held.length === requests, "every first try reached the upstream");
    const waves: { active: number; retries: number; bound: number }[] = [];
    for (let wave = 1; wave <= maxRetries + 1 && answered < requests; wave++) {
      // Every request still unanswered is active and has its try held at the upstream.
      const active = requests - answered;
      await until(() => cluster.active === active, "finished requests left the cluster's count");
      const before = hits;
      for (const socket of held.splice(0)) socket.resetAndDestroy();
      await until(
        () => answered + held.length === requests && cluster.active === held.length,
        "each failed try was retried or answered",
      );
      const retries = hits - before;
      // docs/proxy.md: retries in flight ≤ budgetPercent % of active requests (or
      // minRetryConcurrency); a share below one still admits one retry at a time.
      const bound = Math.max(minRetryConcurrency, Math.ceil((active * budgetPercent) / 100));
      waves.push({ active, retries, bound });
    }
    const statuses = (await Promise.all(responses)).map((r) => r.status);
    assert.deepEqual(new Set(statuses), new Set([502]));
    for (const w of waves) assert.ok(w.retries <= w.bound, JSON.stringify(waves));
    const allowed = requests + waves.reduce((sum, w) => sum + w.bound, 0);
    assert.ok(
      hits <= allowed,
      `${hits} backend hits, at most ${allowed}: ${JSON.stringify(waves)}`,
    );
    assert.ok(waves[0]!.retries > 0, "the budget admitted some retries");
  } finally {
    for (const socket of held.splice(0)) socket.destroy();
    await proxy.stop();
    await upstream.close();
  }
});
