import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parseManifest } from "../src/data-sync/manifest.ts";
import { S3Target } from "../src/data-sync/targets/s3.ts";
import { startTestS3, testCredentials } from "../src/data-sync/testing/s3-server.ts";
import { until } from "../src/runtime/testing.ts";
import { runSidecar, startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

const env = {
  AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
  AWS_REGION: "us-east-1",
};
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

test("kill -9 in the middle of a multipart upload: the restart sends only the parts the store did not have", async (t) => {
  const s3 = await startTestS3(t);
  const dir = await tempDir("sidecar-sync-multipart-");
  t.after(dir.cleanup);
  const data = join(dir.path, "data");
  const stateDir = join(dir.path, "state");
  await mkdir(data);
  // Six parts of 5 MiB (the last one 3 bytes), each with different bytes.
  const big = Buffer.alloc(25 * 1024 * 1024 + 3);
  for (let i = 0; i + 4 <= big.length; i += 512) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(join(data, "db.bin"), big);
  const config = (extra: string) =>
    writeConfig(
      dir.path,
      `admin:\n  address: 127.0.0.1:0\nsync:\n  dataDir: ${data}\n  stateDir: ${stateDir}\n  target: { type: s3, bucket: ${s3.bucket}, prefix: app, endpoint: "${s3.endpoint}", forcePathStyle: true, partSizeMiB: 5, maxAttempts: 1 }\n  intervalSeconds: 0\n  restore: { onStart: false }\n${extra}`,
      `sidecar-${extra.length}.yaml`,
    );
  const partPuts = () => s3.requests.filter((r) => /^PUT \S*partNumber=/.test(r)).length;

  // 3 MiB/s: about eight seconds for the whole file, killed once a few parts are stored.
  const slow = startSidecar(["sync", "-c", await config("  bandwidthMiBps: 3\n")], { env });
  t.after(() => slow.stop("SIGKILL"));
  await until(async () => partPuts() >= 4, "four parts on their way", 30_000);
  assert.equal(await slow.stop("SIGKILL"), 137);

  const journal = JSON.parse(await readFile(join(stateDir, "s3-uploads.json"), "utf8")) as {
    value: { uploads: { key: string; parts: { n: number }[] }[] };
  };
  const [pending] = journal.value.uploads;
  assert.ok(pending, "the upload in progress is in the journal");
  assert.equal(pending.key, `app/objects/${sha256(big).slice(0, 2)}/${sha256(big)}`);
  const stored = pending.parts.length;
  assert.ok(stored >= 1 && stored < 6, `${stored} parts acknowledged before the kill`);
  assert.ok(!s3.requests.some((r) => /^POST \S*uploadId=/.test(r)), "not completed");

  const putsBefore = partPuts();
  const uploadsBefore = s3.requests.filter((r) => /^POST \S*\?uploads/.test(r)).length;
  const resumed = await runSidecar(["sync", "-c", await config(""), "--once"], { env });
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(partPuts() - putsBefore, 6 - stored, "only the parts not stored went up again");
  assert.equal(
    s3.requests.filter((r) => /^POST \S*\?uploads/.test(r)).length,
    uploadsBefore,
    "no new upload was started",
  );
  const after = JSON.parse(await readFile(join(stateDir, "s3-uploads.json"), "utf8")) as {
    value: { uploads: unknown[] };
  };
  assert.deepEqual(after.value.uploads, [], "the journal is empty once the object is complete");

  const target = new S3Target({
    bucket: s3.bucket,
    prefix: "app",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    clientConfig: { credentials: testCredentials },
  });
  t.after(() => target.close());
  const manifest = parseManifest((await target.getText("manifest.json"))!, "manifest.json");
  assert.deepEqual(
    manifest.files.map((f) => [f.path, f.sha256, f.size]),
    [["db.bin", sha256(big), big.length]],
  );
  const chunks: Buffer[] = [];
  for await (const chunk of await target.get(`objects/${sha256(big).slice(0, 2)}/${sha256(big)}`))
    chunks.push(chunk as Buffer);
  assert.equal(sha256(Buffer.concat(chunks)), sha256(big), "the object is whole and right");
});
