import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { captureLogger, until } from "../../../runtime/testing.ts";
import { ApiKeyStore } from "./key-store.ts";

const hash = (key: string) => `sha256:${createHash("sha256").update(key).digest("hex")}`;

test("keys from a file (plain or SHA-256) and from env; lookup gives the id", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-keys-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "keys.yaml");
  await writeFile(file, `ci-bot: s3cret-ci\nbilling: "${hash("s3cret-billing")}"\n`);
  const { logger } = captureLogger();
  const store = new ApiKeyStore(
    { file, env: { ops: "OPS_KEY" } },
    { logger, watch: false, env: { OPS_KEY: "s3cret-ops" } },
  );
  assert.equal(store.size, 3);
  assert.equal(store.lookup("s3cret-ci"), "ci-bot");
  assert.equal(store.lookup("s3cret-billing"), "billing");
  assert.equal(store.lookup("s3cret-ops"), "ops");
  assert.equal(store.lookup(hash("s3cret-billing")), undefined, "the hash is not a key");
  assert.equal(store.lookup("s3cret-c"), undefined);
  assert.equal(store.lookup(""), undefined);
});

test("the keys file reloads on change; a broken file keeps the last good keys and names no key", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-keys-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "keys.yaml");
  await writeFile(file, "a: first-key\n");
  const log = captureLogger();
  const store = new ApiKeyStore({ file }, { logger: log.logger });
  t.after(() => store.close());
  assert.equal(store.lookup("first-key"), "a");
  await writeFile(file, "a: second-key\n");
  await until(() => store.lookup("second-key") === "a", "the new key is accepted");
  assert.equal(store.lookup("first-key"), undefined);
  await writeFile(file, "a: [third-key\n");
  assert.equal(store.reload(), false);
  assert.equal(store.lookup("second-key"), "a");
  await writeFile(file, "b: sha256:abc\n");
  assert.equal(store.reload(), false);
  const lines = JSON.stringify(log.lines());
  assert.match(lines, /SIDECAR_ERR_PROXY_API_KEYS/);
  assert.doesNotMatch(lines, /first-key|second-key|third-key/);
});

test("a missing file or env variable is a SIDECAR_ERR_PROXY_API_KEYS at construction", () => {
  const { logger } = captureLogger();
  assert.throws(() => new ApiKeyStore({ file: "/nonexistent/keys.yaml" }, { logger }), {
    code: "SIDECAR_ERR_PROXY_API_KEYS",
  });
  assert.throws(() => new ApiKeyStore({ env: { a: "NOPE_NOT_SET" } }, { logger, env: {} }), {
    code: "SIDECAR_ERR_PROXY_API_KEYS",
    message: /NOPE_NOT_SET is not set/,
  });
});
