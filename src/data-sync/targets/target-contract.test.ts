import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { type TestContext, test } from "node:test";
import { startTestS3, testCredentials } from "../testing/s3-server.ts";
import { tempDir } from "../testing/sync-fixture.ts";
import { DirTarget } from "./dir.ts";
import { S3Target } from "./s3.ts";
import type { SyncTarget } from "./target.ts";

/** One contract, every target: what the syncer and the restore rely on. */
const targets: Record<string, (t: TestContext) => Promise<SyncTarget>> = {
  dir: async (t) => new DirTarget(await tempDir(t, "target")),
  s3: async (t) => {
    const s3 = await startTestS3(t);
    const target = new S3Target({
      bucket: s3.bucket,
      prefix: "app/one",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      partSize: 5 * 1024 * 1024,
      clientConfig: { credentials: testCredentials },
    });
    t.after(() => target.close());
    return target;
  },
};

const text = async (stream: Readable) => {
  let out = "";
  for await (const chunk of stream) out += chunk;
  return out;
};

for (const [name, make] of Object.entries(targets)) {
  test(`${name}: put, get, list by prefix, delete`, async (t) => {
    const target = await make(t);
    assert.equal(await target.getText("manifest.json"), undefined, "missing reads as undefined");
    await target.put("manifests/000000000001-0000000000001.json", "one");
    await target.put("manifest.json", "latest");
    await target.putStream(
      "objects/ab/abc",
      () => Readable.from([Buffer.from("con"), Buffer.from("tent")]),
      7,
    );
    assert.equal(await target.getText("manifest.json"), "latest");
    assert.equal(await text(await target.get("objects/ab/abc")), "content");
    assert.deepEqual(await target.list("objects/"), [{ key: "objects/ab/abc", size: 7 }]);
    assert.deepEqual(
      (await target.list("manifests/")).map((o) => o.key),
      ["manifests/000000000001-0000000000001.json"],
    );
    await target.delete(["objects/ab/abc", "objects/zz/missing"]);
    assert.deepEqual(await target.list("objects/"), []);
    await assert.rejects(target.get("objects/ab/abc"), { code: "SIDECAR_ERR_SYNC_TARGET" });
    await target.flush();
  });

  test(`${name}: copy makes a whole object of its own, replacing what the key held`, async (t) => {
    const target = await make(t);
    if (!target.copy) return assert.fail(`${name} has no copy()`);
    await target.put("manifests/000000000002-0000000000002.json", "version two");
    await target.put("manifest.json", "version one");
    await target.copy("manifests/000000000002-0000000000002.json", "manifest.json");
    assert.equal(await target.getText("manifest.json"), "version two");
    // The copy outlives its source (retention deletes old manifests).
    await target.delete(["manifests/000000000002-0000000000002.json"]);
    assert.equal(await target.getText("manifest.json"), "version two");
    await assert.rejects(target.copy("manifests/missing.json", "manifest.json"), {
      code: "SIDECAR_ERR_SYNC_TARGET",
    });
    assert.equal(
      await target.getText("manifest.json"),
      "version two",
      "a failed copy changes nothing",
    );
    await target.recover();
    assert.deepEqual(
      (await target.list("")).map((o) => o.key),
      ["manifest.json"],
    );
  });

  test(`${name}: a body that fails leaves no object, small or in parts`, async (t) => {
    const target = await make(t);
    for (const size of [1000, 6 * 1024 * 1024]) {
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(size - 10));
          this.destroy(new Error("the file changed"));
        },
      });
      await assert.rejects(
        target.putStream("objects/ff/torn", () => failing, size),
        /the file changed/,
      );
      assert.deepEqual(
        await target.list("objects/"),
        [],
        `no object after a failed ${size}-byte body`,
      );
    }
    await target.recover();
  });
}

test("s3: a body above the part size goes up as a multipart upload", async (t) => {
  const s3 = await startTestS3(t);
  const target = new S3Target({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
    clientConfig: { credentials: testCredentials },
  });
  t.after(() => target.close());
  const size = 12 * 1024 * 1024 + 5;
  const body = Buffer.alloc(size, 7);
  await target.putStream(
    "objects/bb/big",
    () => Readable.from([body.subarray(0, size >> 1), body.subarray(size >> 1)]),
    size,
  );
  assert.deepEqual(await target.list("objects/"), [{ key: "objects/bb/big", size }]);
  const parts = s3.requests.filter((r) => /^PUT .*partNumber=/.test(r));
  assert.equal(parts.length, 3, "three parts of at most 5 MiB");
  assert.ok(
    s3.requests.some((r) => /^POST .*uploads/.test(r)),
    "CreateMultipartUpload",
  );
  let read = 0;
  for await (const chunk of await target.get("objects/bb/big")) read += (chunk as Buffer).length;
  assert.equal(read, size);
});

test("s3: errors name the bucket and key, never the credentials", async (t) => {
  const s3 = await startTestS3(t);
  const target = new S3Target({
    bucket: "no-such-bucket",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
    clientConfig: { credentials: testCredentials },
  });
  t.after(() => target.close());
  await assert.rejects(target.put("manifest.json", "x"), (error: Error & { code: string }) => {
    assert.equal(error.code, "SIDECAR_ERR_SYNC_TARGET");
    assert.match(error.message, /s3:\/\/no-such-bucket\/manifest\.json/);
    assert.ok(!error.message.includes(testCredentials.secretAccessKey));
    assert.ok(!error.message.includes(testCredentials.accessKeyId));
    return true;
  });
});

test("s3: serverSideEncryption is asked for on every object written, multipart included", async (t) => {
  const s3 = await startTestS3(t);
  const target = new S3Target({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
    serverSideEncryption: "AES256",
    clientConfig: { credentials: testCredentials },
  });
  t.after(() => target.close());
  await target.put("manifest.json", "{}");
  const size = 6 * 1024 * 1024;
  await target.putStream("objects/cc/big", () => Readable.from([Buffer.alloc(size)]), size);
  assert.ok(s3.encrypted.some((r) => /^PUT \/sidecar-backups\/manifest\.json\S* AES256$/.test(r)));
  assert.ok(
    s3.encrypted.some((r) =>
      /^POST \/sidecar-backups\/objects\/cc\/big\?uploads.* AES256$/.test(r),
    ),
    s3.encrypted.join("\n"),
  );
});

test("dir: copy on a filesystem without hard links writes a copy of the bytes", async (t) => {
  const root = await tempDir(t, "target");
  const links: string[] = [];
  const target = new DirTarget(root, {
    link: async (existing) => {
      links.push(existing);
      throw Object.assign(new Error("EPERM: operation not permitted, link"), { code: "EPERM" });
    },
  });
  await target.put("manifests/000000000001-0000000000001.json", "one");
  await target.copy("manifests/000000000001-0000000000001.json", "manifest.json");
  assert.equal(links.length, 1, "a hard link was tried first");
  await target.delete(["manifests/000000000001-0000000000001.json"]);
  assert.equal(await target.getText("manifest.json"), "one");
  assert.deepEqual(
    (await target.list("")).map((o) => o.key),
    ["manifest.json"],
    "no temp file left",
  );
});
