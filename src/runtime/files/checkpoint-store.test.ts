import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ErrorCodes } from "../error-codes.ts";
import { captureLogger } from "../testing.ts";
import { CheckpointStore } from "./checkpoint-store.ts";

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-checkpoint-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface State {
  revision: string;
  count: number;
}

test("saves and loads a value; a missing file loads as undefined without a word", async () => {
  await withTempDir(async (dir) => {
    const { logger, lines } = captureLogger();
    const store = new CheckpointStore<State>(join(dir, "sub", "state.json"), {
      version: 2,
      logger,
    });
    assert.equal(await store.load(), undefined);
    await store.save({ revision: "abc", count: 1 });
    assert.deepEqual(await store.load(), { revision: "abc", count: 1 });
    const again = new CheckpointStore<State>(join(dir, "sub", "state.json"), {
      version: 2,
      logger,
    });
    assert.deepEqual(await again.load(), { revision: "abc", count: 1 });
    assert.deepEqual(lines(), []);
  });
});

test("a corrupt checkpoint loads as undefined with one warning carrying the code", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "state.json");
    await writeFile(path, '{"version":1,"value":{"revi');
    const { logger, lines } = captureLogger();
    const store = new CheckpointStore<State>(path, { version: 1, logger });
    assert.equal(await store.load(), undefined);
    assert.equal(await store.load(), undefined);
    const warnings = lines().filter((line) => line.level === "warn");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, ErrorCodes.CHECKPOINT_READ);
    assert.match(
      String(warnings[0]!.msg),
      /^Cannot read checkpoint file ".*state\.json": not JSON/,
    );
    await store.save({ revision: "r", count: 2 });
    assert.deepEqual(await store.load(), { revision: "r", count: 2 });
  });
});

test("a file of another version or shape loads as undefined, reported", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "state.json");
    await writeFile(path, JSON.stringify({ version: 1, value: { old: true } }));
    const { logger, lines } = captureLogger();
    assert.equal(await new CheckpointStore<State>(path, { version: 2, logger }).load(), undefined);
    await writeFile(path, "[1,2]");
    assert.equal(await new CheckpointStore<State>(path, { version: 2, logger }).load(), undefined);
    const messages = lines().map((line) => String(line.msg));
    assert.match(messages[0]!, /unexpected version 1 \(expected 2\)/);
    assert.match(messages[1]!, /not a checkpoint file/);
  });
});

test("saves run in call order, the last one wins", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "state.json");
    const { logger } = captureLogger();
    const store = new CheckpointStore<State>(path, { version: 1, logger, fsync: false });
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => store.save({ revision: "r", count: n })),
    );
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), {
      version: 1,
      value: { revision: "r", count: 19 },
    });
  });
});

test("a failed save (a file where the directory should be) throws SIDECAR_ERR_CHECKPOINT_WRITE naming the file", async () => {
  await withTempDir(async (dir) => {
    const { logger } = captureLogger();
    await writeFile(join(dir, "file"), "");
    const store = new CheckpointStore<State>(join(dir, "file", "state.json"), {
      version: 1,
      logger,
    });
    await assert.rejects(
      store.save({ revision: "r", count: 1 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.CHECKPOINT_WRITE);
        assert.match(error.message, /^Cannot write checkpoint file ".*state\.json": /);
        return true;
      },
    );
  });
});
