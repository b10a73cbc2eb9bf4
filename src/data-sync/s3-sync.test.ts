import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { captureLogger, testRoleContext, until } from "../runtime/testing.ts";
import { pathFilter } from "./path-filter.ts";
import { restore } from "./restore.ts";
import { syncConfigSchema } from "./sync-config.ts";
import { createSyncRole } from "./sync-role.ts";
import { Syncer } from "./syncer.ts";
import { S3Target } from "./targets/s3.ts";
import { startTestS3, type TestS3, testCredentials } from "./testing/s3-server.ts";
import { tempDir, writeFiles } from "./testing/sync-fixture.ts";

// The role reads credentials from the AWS SDK's default chain, as in production: the environment.
process.env.AWS_ACCESS_KEY_ID = testCredentials.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = testCredentials.secretAccessKey;
process.env.AWS_SESSION_TOKEN = "sEsSiOn-token-sidecar-sync-test";
process.env.AWS_REGION = "us-east-1";

function s3Config(s3: TestS3, dataDir: string, extra: Record<string, unknown> = {}) {
  return syncConfigSchema.parse({
    dataDir,
    target: {
      type: "s3",
      bucket: s3.bucket,
      prefix: "apps/demo",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      partSizeMiB: 5,
      maxAttempts: 1,
    },
    debounceSeconds: 0.05,
    intervalSeconds: 0,
    retry: { initialSeconds: 0.05, maxSeconds: 0.2 },
    ...extra,
  });
}

/** A Syncer from `dataDir` to the test S3 server (parts of 5 MiB), and its logger. */
function s3Syncer(
  t: import("node:test").TestContext,
  s3: TestS3,
  dataDir: string,
  options: { copyThreadsFrom?: number } = {},
) {
  const { logger } = captureLogger();
  const target = new S3Target({
    bucket: s3.bucket,
    prefix: "apps/demo",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
  });
  t.after(() => target.close());
  const syncer = new Syncer({
    dataDir,
    target,
    filter: pathFilter(["**"], []),
    deletes: "keep",
    retention: { versions: 3, maxAgeHours: 0 },
    logger,
    ...options,
  });
  return { target, syncer, logger };
}

test("a big file goes up in parts, and restores from S3 byte for byte", async (t) => {
  const s3 = await startTestS3(t);
  const dataDir = await tempDir(t, "data");
  const big = Buffer.alloc(11 * 1024 * 1024 + 3);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  await writeFiles(dataDir, { "db/big.bin": big, "small.txt": "small" });
  const { target, syncer, logger } = s3Syncer(t, s3, dataDir);
  const result = await syncer.run();
  assert.equal(result.filesCopied, 2);
  assert.equal(s3.requests.filter((r) => /^PUT .*partNumber=/.test(r)).length, 3, "three parts");
  const into = join(await tempDir(t, "restore"), "data");
  const restored = await restore({ dataDir: into, target, logger });
  assert.equal(restored.status, "restored");
  const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  assert.equal(digest(await readFile(join(into, "db/big.bin"))), digest(big));
  assert.equal(await readFile(join(into, "small.txt"), "utf8"), "small");
});

test("many small files go up as a few packs, and come back with one read per pack", async (t) => {
  const s3 = await startTestS3(t);
  const dataDir = await tempDir(t, "data");
  const files: Record<string, string> = { "empty.txt": "" };
  for (let i = 0; i < 60; i++) files[`d${i % 4}/f${i}.txt`] = `file ${i}\n`.repeat(i + 1);
  await writeFiles(dataDir, files);
  const { target, syncer, logger } = s3Syncer(t, s3, dataDir, { copyThreadsFrom: 1 });
  const result = await syncer.run();
  assert.equal(result.filesCopied, 60, "every file but the empty one, which copies no bytes");
  const objectPuts = s3.requests.filter((r) => /^PUT \/[^/]+\/apps\/demo\/objects\//.test(r));
  assert.equal(objectPuts.length, 2, "61 files in two packs of 32 at most");
  assert.equal(syncer.current!.format, 2);
  const into = join(await tempDir(t, "restore"), "data");
  const before = s3.requests.length;
  assert.equal((await restore({ dataDir: into, target, logger })).status, "restored");
  for (const [path, content] of Object.entries(files))
    assert.equal(await readFile(join(into, path), "utf8"), content, path);
  const objectGets = s3.requests
    .slice(before)
    .filter((r) => /^GET \/[^/]+\/apps\/demo\/objects\//.test(r));
  assert.equal(objectGets.length, 2, "one read per pack");
});

test("S3 down: passes fail and are retried, nothing is recorded, and it syncs once S3 is back", async (t) => {
  const s3 = await startTestS3(t);
  const dataDir = await tempDir(t, "data");
  await writeFiles(dataDir, { "a.txt": "alpha" });
  const ctx = testRoleContext();
  const role = createSyncRole(s3Config(s3, dataDir, { restore: { onStart: false } }), ctx);
  t.after(() => role.stop(AbortSignal.timeout(5000)));
  await s3.stop();
  await role.start();
  await until(() => (role.status().lastError?.kind ?? "") === "target", "a failed pass");
  await until(
    () =>
      ctx
        .logLines()
        .filter((l) => l.msg === "sync failed; the last version at the target is unchanged")
        .length >= 2,
    "a retry",
  );
  assert.equal(role.status().version, undefined);
  await s3.start();
  await until(() => role.status().version === 1, "synced once S3 is back", 15_000);
  assert.ok(s3.requests.some((r) => r.startsWith("PUT /sidecar-backups/apps/demo/manifest.json")));
});

test("restore at start fails, and so does the start, when S3 cannot be read: the app never starts on an empty directory", async (t) => {
  const s3 = await startTestS3(t);
  await s3.stop();
  const role = createSyncRole(
    s3Config(s3, join(await tempDir(t, "data"), "data")),
    testRoleContext(),
  );
  await assert.rejects(role.start(), { code: "SIDECAR_ERR_SYNC_TARGET" });
  await role.stop(AbortSignal.timeout(5000));
});

test("credentials are never logged, shown in /sync/status or the panel, or exported as metrics", async (t) => {
  const s3 = await startTestS3(t);
  const dataDir = await tempDir(t, "data");
  await writeFiles(dataDir, { "a.txt": "alpha" });
  const { logger, lines } = captureLogger();
  const ctx = testRoleContext({ logger });
  const role = createSyncRole(s3Config(s3, dataDir), ctx);
  t.after(() => role.stop(AbortSignal.timeout(5000)));
  await role.start();
  await until(() => role.status().version === 1, "first version");
  await s3.stop();
  await writeFiles(dataDir, { "b.txt": "bravo" });
  await until(() => role.status().lastError !== undefined, "a failed pass");
  await s3.start();
  await role.stop(AbortSignal.timeout(5000));
  const everything = [
    JSON.stringify(lines()),
    JSON.stringify(role.status()),
    JSON.stringify(await ctx.routes.panels[0]!.figures()),
    await ctx.registry.metrics(),
  ].join("\n");
  assert.ok(lines().length > 3, "there were log lines to check");
  for (const secret of [
    testCredentials.accessKeyId,
    testCredentials.secretAccessKey,
    process.env.AWS_SESSION_TOKEN!,
  ])
    assert.ok(!everything.includes(secret), `"${secret.slice(0, 6)}…" appears`);
});
