import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { test } from "node:test";
import { systemClock } from "../../../runtime/clock.ts";
import { captureLogger, until } from "../../../runtime/testing.ts";
import type { SourceSnapshot } from "../config-source.ts";
import { consulEntries, HttpSource, httpSourceSchema } from "./index.ts";

/** A config server on loopback; `handle` answers each request. */
async function configServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function start(config: Record<string, unknown>) {
  const source = new HttpSource(httpSourceSchema.parse({ name: "web", type: "http", ...config }), {
    logger: captureLogger().logger,
    clock: systemClock,
  });
  const snapshots: SourceSnapshot[] = [];
  const errors: string[] = [];
  source.start({ onSnapshot: (s) => snapshots.push(s), onError: (e) => errors.push(e.message) });
  return { source, snapshots, errors };
}

const text = (s: SourceSnapshot | undefined) => [...(s?.entries.values() ?? [])][0]?.toString();

test("polling sends If-None-Match; a 304 changes nothing, a new ETag is a new snapshot", async () => {
  let body = '{"a":1}';
  let etag = '"v1"';
  const conditional: string[] = [];
  const server = await configServer((req, res) => {
    if (req.headers["if-none-match"]) conditional.push(req.headers["if-none-match"] as string);
    if (req.headers["if-none-match"] === etag) {
      res.statusCode = 304;
      return res.end();
    }
    res.setHeader("etag", etag);
    res.setHeader("content-type", "application/json");
    res.end(body);
  });
  const { source, snapshots } = start({ url: `${server.url}/app`, intervalSeconds: 0.05 });
  try {
    await until(() => conditional.length >= 2, "conditional polls");
    assert.equal(snapshots.length, 1);
    assert.deepEqual([...snapshots[0]!.entries.keys()], ["app.json"], "named by content type");
    assert.equal(snapshots[0]!.single, true);
    assert.equal(source.status.version, 'etag "v1"');
    body = '{"a":2}';
    etag = '"v2"';
    await until(() => snapshots.length === 2, "the new version");
    assert.equal(text(snapshots[1]), '{"a":2}');
  } finally {
    await source.close();
    server.close();
  }
});

test("long-poll: the server holds the request until a change; the index follows, and starts over when it goes back", async () => {
  let index = 5;
  let value = "one";
  const waiting = new Set<() => void>();
  const seen: string[] = [];
  const server = await configServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    seen.push(`${url.searchParams.get("index")} ${url.searchParams.get("wait")}`);
    const answer = () => {
      res.setHeader("x-consul-index", String(index));
      res.end(value);
    };
    if (Number(url.searchParams.get("index")) === index) waiting.add(answer);
    else answer();
  });
  const { source, snapshots } = start({
    url: `${server.url}/v1/kv/app.txt`,
    longPoll: { waitSeconds: 30 },
  });
  const change = (next: number, text: string) => {
    index = next;
    value = text;
    for (const answer of waiting) answer();
    waiting.clear();
  };
  try {
    await until(() => waiting.size === 1, "a held request");
    assert.deepEqual(seen, ["0 30s", "5 30s"]);
    change(9, "two");
    await until(() => snapshots.length === 2, "the change");
    assert.equal(text(snapshots[1]), "two");
    await until(() => waiting.size === 1, "held again");
    // A snapshot restore: the index goes backwards, so the next request starts at 0.
    change(3, "three");
    await until(() => snapshots.length === 3, "the restored data");
    await until(() => waiting.size === 1, "held at the new index");
    assert.deepEqual(seen.slice(2), ["9 30s", "0 30s", "3 30s"]);
  } finally {
    await source.close();
    server.close();
  }
});

test("a failing server: the error is reported, the last values stay, and it recovers with backoff", async () => {
  let status = 200;
  const server = await configServer((_req, res) => {
    res.statusCode = status;
    res.end(status === 200 ? "ok" : "boom");
  });
  const { source, snapshots, errors } = start({
    url: `${server.url}/x.txt`,
    intervalSeconds: 0.05,
  });
  try {
    await until(() => snapshots.length === 1, "the first read");
    status = 503;
    await until(() => errors.length > 0, "the error");
    assert.match(errors[0]!, /answered 503/);
    assert.equal(source.status.up, false);
    assert.equal(source.snapshot!.entries.get("x.txt")!.toString(), "ok", "the last values stay");
    status = 200;
    await until(() => source.status.up, "recovery", 15_000);
  } finally {
    await source.close();
    server.close();
  }
});

test("consul-kv: one entry per key, base64 decoded, prefix dropped, folders skipped", () => {
  const body = JSON.stringify([
    { Key: "shop/", Value: null },
    { Key: "shop/db/host", Value: Buffer.from("db.local").toString("base64") },
    { Key: "shop/level", Value: Buffer.from("info").toString("base64") },
  ]);
  const entries = consulEntries(body, "shop/");
  assert.deepEqual(Object.fromEntries([...entries].map(([k, v]) => [k, v.toString()])), {
    "db/host": "db.local",
    level: "info",
  });
});
