import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LogsSinkErrorCodes } from "../error-codes.ts";
import { testContext, testEvents } from "../testing/test-context.ts";
import { createHttpSink, httpSinkSchema } from "./index.ts";

let dir = "";
let url = "";
const bodies: string[] = [];
let close = async () => {};

before(async () => {
  const ctx = await testContext();
  dir = ctx.stateDir;
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  const server = createServer(
    { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
    (req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        bodies.push(body);
        res.end("{}");
      });
    },
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});

after(() => close());

test("https with the receiver's CA in tls.caFile is delivered", async () => {
  const ctx = await testContext();
  const sink = createHttpSink(
    httpSinkSchema.parse({ type: "http", url, tls: { caFile: join(dir, "cert.pem") } }),
    ctx,
  );
  await sink.write(testEvents(2));
  assert.ok(bodies.some((b) => b.includes("event 1")));
  assert.equal(await sink.close(AbortSignal.timeout(2000)), 0);
});

test("an untrusted certificate is a retryable failure, never a delivery", async () => {
  const ctx = await testContext();
  const sink = createHttpSink(
    httpSinkSchema.parse({ type: "http", url, retry: { initialBackoffSeconds: 0.01 } }),
    ctx,
  );
  const written = sink.write(testEvents(1)).catch((error: unknown) => error);
  for (let i = 0; i < 200 && ctx.logs.length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.match(String(ctx.logs[0]?.reason), /self-signed|SELF_SIGNED/i);
  assert.equal(await sink.close(AbortSignal.timeout(100)), 1);
  assert.equal(((await written) as { code: string }).code, LogsSinkErrorCodes.SINK_CLOSED);
});

test("a CA file that cannot be read fails the build with a code", async () => {
  const ctx = await testContext();
  assert.throws(
    () =>
      createHttpSink(
        httpSinkSchema.parse({ type: "http", url, tls: { caFile: join(dir, "missing.pem") } }),
        ctx,
      ),
    { code: LogsSinkErrorCodes.TLS_CA },
  );
});
