import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineComponent } from "../runtime/component.ts";
import type { FilterBuildContext, FilterComponent, ProxyFilter } from "./filters/filter.ts";
import { type ProxyConfig, proxyConfigSchema } from "./proxy-config.ts";
import {
  header,
  httpUpstream,
  RawClient,
  rawRequest,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";

/** Filters run, as "name@route", in the order they ran. */
const seen: string[] = [];

const tag = defineComponent({
  type: "tag",
  schema: z.strictObject({ type: z.literal("tag"), name: z.string() }),
  build: ({ name }: { name: string }, _ctx: FilterBuildContext): ProxyFilter => ({
    type: "tag",
    onRequest(request) {
      seen.push(`${name}@${request.route || "-"}`);
      request.setRequestHeader(`x-filter-${name}`, request.clientAddress);
      request.setResponseHeader(`x-filter-${name}`, request.upgrade ? "upgrade" : "plain");
      return undefined;
    },
  }),
});

/** Removes a credential going up and a header of the app's going down. */
const strip = defineComponent({
  type: "strip",
  schema: z.strictObject({ type: z.literal("strip") }),
  build: (_config: unknown, _ctx: FilterBuildContext): ProxyFilter => ({
    type: "strip",
    onRequest(request) {
      request.removeRequestHeader("authorization");
      return undefined;
    },
    onResponse(request, status) {
      request.removeResponseHeader("x-app-secret");
      request.setResponseHeader("x-seen-status", String(status));
    },
  }),
});

const deny = defineComponent({
  type: "deny",
  schema: z.strictObject({ type: z.literal("deny") }),
  build: (_config: unknown, _ctx: FilterBuildContext): ProxyFilter => ({
    type: "deny",
    onRequest(request) {
      request.setResponseHeader("www-authenticate", 'Bearer realm="test"');
      return { status: 401, code: "TEST_DENIED", flag: "UAEX", message: "Who are you?" };
    },
  }),
});

/** Waits like a forward-auth call would; denies when the request has `x-deny`. */
const slow = defineComponent({
  type: "slow",
  schema: z.strictObject({ type: z.literal("slow") }),
  build: (_config: unknown, _ctx: FilterBuildContext): ProxyFilter => ({
    type: "slow",
    async onRequest(request) {
      await sleep(20);
      if (request.headers["x-deny"] !== undefined)
        return { status: 403, code: "TEST_FORBIDDEN", flag: "UAEX", message: "No." };
      request.setRequestHeader("x-checked", "yes");
      return undefined;
    },
  }),
});

const broken = defineComponent({
  type: "broken",
  schema: z.strictObject({ type: z.literal("broken") }),
  build: (_config: unknown, _ctx: FilterBuildContext): ProxyFilter => ({
    type: "broken",
    onRequest(request) {
      if (request.headers["x-async"] !== undefined) return Promise.reject(new Error("nope"));
      // A filter with a bug: a header value that would split the request.
      request.setRequestHeader("x-evil", "a\r\nx-injected: 1");
      return undefined;
    },
  }),
});

const filterTypes = [tag, strip, deny, slow, broken] as readonly FilterComponent[];

type Entry = { type: string; name?: string };
const filters = (...entries: Entry[]) =>
  entries as unknown as ProxyConfig["listeners"][0]["filters"];

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

describe("the filter chain", () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  const received: Seen[] = [];
  const upgraded = new Set<Socket>();
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sidecar-filters-"));
    const app = await httpUpstream((req, res) => {
      received.push({ url: req.url!, headers: req.headers });
      res.setHeader("x-app-secret", "s3cret");
      res.end("ok");
    });
    app.server.on("upgrade", (req, socket: Socket) => {
      upgraded.add(socket);
      received.push({ url: req.url!, headers: req.headers });
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-App-Secret: s3cret\r\n\r\n",
      );
      socket.on("data", (chunk: Buffer) =>
        socket.write(Buffer.concat([Buffer.from("echo:"), chunk])),
      );
      socket.on("error", () => {});
    });
    upstream = app;
    proxy = await startProxy(
      {
        listeners: [
          {
            address: "127.0.0.1:0",
            clientAddress: { trustedCidrs: ["127.0.0.0/8"] },
            routes: [
              { name: "tagged", match: { prefix: "/tagged" }, cluster: "app" },
              { name: "denied", match: { prefix: "/denied" }, cluster: "app" },
              { name: "slow", match: { prefix: "/slow" }, cluster: "app" },
              { name: "broken", match: { prefix: "/broken" }, cluster: "app" },
              { name: "plain", match: { prefix: "/plain" }, cluster: "app" },
            ],
          },
        ],
        clusters: { app: { endpoints: [`127.0.0.1:${upstream.port}`] } },
        accessLog: { enabled: true, path: join(dir, "access.log") },
      },
      {
        filterTypes,
        edit(config) {
          const [listener] = config.listeners;
          listener!.filters = filters({ type: "tag", name: "a" }, { type: "strip" });
          const [tagged, denied, slowRoute, brokenRoute] = listener!.routes;
          tagged!.filters = filters({ type: "tag", name: "c" });
          denied!.filters = filters({ type: "deny" }, { type: "tag", name: "never" });
          slowRoute!.filters = filters({ type: "slow" }, { type: "tag", name: "after" });
          brokenRoute!.filters = filters({ type: "broken" }, { type: "tag", name: "never" });
        },
      },
    );
  });
  after(async () => {
    for (const socket of upgraded) socket.destroy();
    await proxy.stop();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, extra = "") =>
    rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: svc\r\n${extra}\r\n`);

  test("listener filters run first, then the route's; a route without filters runs the listener's", async () => {
    seen.length = 0;
    const tagged = await get("/tagged");
    assert.equal(tagged.status, 200);
    assert.deepEqual(seen, ["a@tagged", "c@tagged"]);
    seen.length = 0;
    assert.equal((await get("/plain")).status, 200);
    assert.deepEqual(seen, ["a@plain"]);
    seen.length = 0;
    const unrouted = await get("/nowhere");
    assert.equal(unrouted.status, 404);
    assert.equal(header(unrouted, "x-sidecar-error"), "NR");
    assert.equal(
      header(unrouted, "x-filter-a"),
      "plain",
      "a local reply goes through the response side",
    );
    assert.deepEqual(seen, ["a@-"]);
  });

  test("headers change on the way up and down", async () => {
    const before = received.length;
    const res = await get("/tagged", "Authorization: Bearer t0ken\r\nX-Filter-C: from-client\r\n");
    assert.equal(res.status, 200);
    const up = received.at(-1)!;
    assert.equal(received.length, before + 1);
    assert.equal(up.headers["x-filter-a"], "127.0.0.1");
    assert.equal(up.headers["x-filter-c"], "127.0.0.1", "a set replaces the client's header");
    assert.equal(up.headers.authorization, undefined);
    assert.equal(header(res, "x-filter-a"), "plain");
    assert.equal(header(res, "x-filter-c"), "plain");
    assert.equal(header(res, "x-app-secret"), undefined);
    assert.equal(header(res, "x-seen-status"), "200");
  });

  test("a local reply short-circuits: the app never sees the request", async () => {
    const before = received.length;
    seen.length = 0;
    const res = await get("/denied");
    assert.equal(res.status, 401);
    assert.equal(header(res, "x-sidecar-error"), "UAEX");
    assert.equal(header(res, "www-authenticate"), 'Bearer realm="test"');
    assert.equal(header(res, "content-type"), "application/json");
    assert.equal(JSON.parse(res.body.toString()).code, "TEST_DENIED");
    assert.deepEqual(seen, ["a@denied"]);
    assert.equal(received.length, before);
  });

  test("an async filter: the request goes on after it, or is answered by it", async () => {
    seen.length = 0;
    const before = received.length;
    const res = await get("/slow");
    assert.equal(res.status, 200);
    assert.equal(received.at(-1)!.headers["x-checked"], "yes");
    assert.deepEqual(seen, ["a@slow", "after@slow"]);
    const denied = await get("/slow", "X-Deny: 1\r\n");
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.body.toString()).code, "TEST_FORBIDDEN");
    assert.equal(received.length, before + 1);
  });

  test("a filter that throws or rejects gives 500 FE and the app never sees the request", async () => {
    const before = received.length;
    for (const extra of ["", "X-Async: 1\r\n"]) {
      const res = await get("/broken", extra);
      assert.equal(res.status, 500);
      assert.equal(header(res, "x-sidecar-error"), "FE");
      assert.equal(JSON.parse(res.body.toString()).code, "SIDECAR_ERR_PROXY_FILTER_FAILED");
    }
    assert.equal(received.length, before);
  });

  test("Upgrade requests pass the chain: headers both ways, and denial before the app", async () => {
    const upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
    const client = await RawClient.connect(proxy.port);
    try {
      seen.length = 0;
      client.write(`GET /tagged HTTP/1.1\r\nHost: svc\r\n${upgrade}Authorization: x\r\n\r\n`);
      const res = await client.read({ noBody: true });
      assert.equal(res.status, 101);
      assert.equal(header(res, "x-filter-c"), "upgrade");
      assert.equal(header(res, "x-app-secret"), undefined);
      assert.deepEqual(seen, ["a@tagged", "c@tagged"]);
      const up = received.at(-1)!;
      assert.equal(up.headers["x-filter-c"], "127.0.0.1");
      assert.equal(up.headers.authorization, undefined);
      client.write("ping");
      await client.waitFor("echo:ping");
    } finally {
      client.close();
    }
    const before = received.length;
    const denied = await get("/denied", upgrade);
    assert.equal(denied.status, 401);
    assert.equal(header(denied, "x-sidecar-error"), "UAEX");
    assert.equal(header(denied, "www-authenticate"), 'Bearer realm="test"');
    const slowDenied = await get("/slow", `${upgrade}X-Deny: 1\r\n`);
    assert.equal(slowDenied.status, 403);
    assert.equal(received.length, before);
    const slowClient = await RawClient.connect(proxy.port);
    try {
      slowClient.write(`GET /slow HTTP/1.1\r\nHost: svc\r\n${upgrade}\r\n`);
      assert.equal((await slowClient.read({ noBody: true })).status, 101);
      assert.equal(received.at(-1)!.headers["x-checked"], "yes");
    } finally {
      slowClient.close();
    }
  });

  test("the resolved client address reaches filters, the access log and X-Forwarded-For", async () => {
    const res = await get("/denied", "X-Forwarded-For: 203.0.113.9\r\n");
    assert.equal(res.status, 401);
    await get("/tagged", "X-Forwarded-For: 203.0.113.9\r\n");
    const up = received.at(-1)!;
    assert.equal(up.headers["x-filter-a"], "203.0.113.9");
    assert.equal(up.headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1", "the peer is appended");
    await proxy.stop();
    const lines = (await readFile(join(dir, "access.log"), "utf8")).trim().split("\n");
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const denied = entries.find((e) => e.path === "/denied" && e.client_address === "203.0.113.9");
    assert.equal(denied?.status, 401);
    assert.equal(denied?.response_flags, "UAEX");
    const broken = entries.find((e) => e.path === "/broken");
    assert.equal(broken?.response_flags, "FE");
  });
});

describe("per-client rate limits behind trusted proxies", () => {
  test("clients are told apart by X-Forwarded-For only when the peer is trusted", async () => {
    const app = await httpUpstream((_req, res) => res.end("ok"));
    const limit = { perClient: { requestsPerSecond: 0.001, burst: 1 } };
    const proxy = await startProxy({
      listeners: [
        { name: "edge", address: "127.0.0.1:0", routes: [{ cluster: "app" }], rateLimit: limit },
        {
          name: "behind",
          address: "127.0.0.1:0",
          routes: [{ cluster: "app" }],
          clientAddress: { trustedHops: 1 },
          filters: [{ type: "rate-limit", ...limit }],
        },
      ],
      clusters: { app: { endpoints: [`127.0.0.1:${app.port}`] } },
    });
    const from = async (port: number, client: string) =>
      (await rawRequest(port, `GET / HTTP/1.1\r\nHost: svc\r\nX-Forwarded-For: ${client}\r\n\r\n`))
        .status;
    try {
      const [edge, behind] = proxy.ports as [number, number];
      // Spoofed X-Forwarded-For from an untrusted peer: one client, one bucket.
      assert.deepEqual(
        [await from(edge, "198.51.100.1"), await from(edge, "198.51.100.2")],
        [200, 429],
      );
      // Behind a trusted hop: one bucket per client.
      assert.deepEqual(
        [
          await from(behind, "203.0.113.1"),
          await from(behind, "203.0.113.1"),
          await from(behind, "10.0.0.1, 203.0.113.2"),
          await from(behind, "[2001:db8::1]:4711"),
          await from(behind, "2001:db8::1"),
        ],
        [200, 429, 200, 200, 429],
      );
    } finally {
      await proxy.stop();
      await app.close();
    }
  });
});

test("config: an unknown filter type and a bad trusted CIDR are refused with their path", () => {
  const result = proxyConfigSchema.safeParse({
    listeners: [
      {
        address: "127.0.0.1:1",
        routes: [{ cluster: "app", filters: [{ type: "nope" }] }],
        clientAddress: { trustedCidrs: ["10.0.0.0/33"] },
      },
    ],
    clusters: { app: { endpoints: ["127.0.0.1:2"] } },
  });
  assert.equal(result.success, false);
  const issues = result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assert.deepEqual(issues, [
    "listeners.0.routes.0.filters.0.type: expected a filter with a known type: rate-limit, api-key, jwt, forward-auth, authz",
    'listeners.0.clientAddress.trustedCidrs.0: expected an IP address or CIDR, e.g. "10.0.0.0/8" or "fd00::/8"',
  ]);
});
