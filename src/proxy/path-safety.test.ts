import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { routeSchema } from "./proxy-config.ts";
import { RouteTable } from "./route-table.ts";
import {
  header,
  httpUpstream,
  rawRequest,
  startProxy,
  type TestProxy,
  type Upstream,
} from "./testing.ts";

test("path and prefix matches ignore case unless caseSensitive; an exact path ignores one trailing slash", () => {
  const table = new RouteTable(
    [
      { name: "admin", match: { path: "/admin" }, cluster: "a" },
      { name: "api", match: { prefix: "/API/" }, cluster: "a" },
      { name: "re", match: { regex: "/users/[a-z]+" }, cluster: "a" },
      { name: "strict", match: { path: "/Strict", caseSensitive: true }, cluster: "a" },
    ].map((r) => routeSchema.parse(r)),
  );
  const at = (path: string) => table.match({ method: "GET", path, host: "svc", headers: {} })?.name;
  assert.equal(at("/ADMIN"), "admin");
  assert.equal(at("/Admin/"), "admin");
  assert.equal(at("/admin/x"), undefined);
  assert.equal(at("/api/v1"), "api");
  assert.equal(at("/USERS/Bob"), "re");
  assert.equal(at("/Strict"), "strict");
  assert.equal(at("/strict"), undefined);
});

describe("path tricks never reach a protected route through a public one", () => {
  let admin: Upstream;
  let pub: Upstream;
  let proxy: TestProxy;
  before(async () => {
    admin = await httpUpstream((req, res) => res.end(`admin ${req.url}`));
    pub = await httpUpstream((req, res) => res.end(`public ${req.url}`));
    proxy = await startProxy({
      listeners: [
        {
          address: "127.0.0.1:0",
          routes: [
            { name: "admin", match: { prefix: "/admin" }, cluster: "admin" },
            { name: "public", match: { prefix: "/" }, cluster: "public" },
          ],
        },
        {
          name: "keep",
          address: "127.0.0.1:0",
          pathNormalization: { encodedSlashes: "keep" },
          routes: [
            { name: "admin", match: { prefix: "/admin" }, cluster: "admin" },
            { name: "public", match: { prefix: "/" }, cluster: "public" },
          ],
        },
      ],
      clusters: {
        admin: { endpoints: [`127.0.0.1:${admin.port}`] },
        public: { endpoints: [`127.0.0.1:${pub.port}`] },
      },
    });
  });
  after(async () => {
    await proxy.stop();
    await admin.close();
    await pub.close();
  });

  const get = (target: string, port = proxy.port) =>
    rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n`);

  test("each trick is routed as the path the app will see, and the app gets that path", async () => {
    for (const [target, seen] of [
      ["/public/../admin", "/admin"],
      ["//admin", "/admin"],
      ["/%2e%2e/admin", "/admin"],
      ["/public/%2E%2E/admin/x?q=/../y", "/admin/x?q=/../y"],
      ["/admin;x", "/admin"],
      ["/public/..;/admin", "/admin"],
      ["/ADMIN", "/ADMIN"],
      ["/%41dmin", "/Admin"],
      ["/./admin", "/admin"],
    ]) {
      const res = await get(target!);
      assert.equal(res.body.toString(), `admin ${seen}`, target);
    }
  });

  test("encoded slashes and fragments are refused with 400 by default", async () => {
    for (const target of [
      "/public%2F..%2Fadmin",
      "/public%5c..%5cadmin",
      "/public\\..\\admin",
      "/public#/../admin",
    ]) {
      const res = await get(target);
      assert.equal(res.status, 400, target);
      assert.equal(header(res, "x-sidecar-error"), "DPE");
      assert.equal(JSON.parse(res.body.toString()).code, "SIDECAR_ERR_PROXY_PATH_REFUSED");
    }
  });

  test("with encodedSlashes: keep, an encoded slash stays one segment and never matches /admin", async () => {
    const res = await get("/public%2f..%2fadmin", proxy.ports[1]);
    assert.equal(res.body.toString(), "public /public%2F..%2Fadmin");
  });
});
