import assert from "node:assert/strict";
import {
  appendFile,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readFile,
  rename,
  rm,
  truncate,
  unlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createNoneParser } from "../../parsers/none/index.ts";
import { Pipeline, type PipelineSource } from "../../pipeline/pipeline.ts";
import { MemorySink, memoryLogger, until } from "../../pipeline/testing/memory-sink.ts";
import { FileSource, type FileSourceOptions } from "./file-source.ts";

interface Harness {
  dir: string;
  sink: MemorySink;
  source: FileSource;
  pipeline: Pipeline;
  stop(): Promise<void>;
}

async function harness(
  dir: string,
  options: Partial<FileSourceOptions> & { include: string[] },
  { maxBufferBytes = 4 * 1024 * 1024, sink = new MemorySink() } = {},
): Promise<Harness> {
  const { logger } = memoryLogger();
  const source = new FileSource({
    name: "test",
    stateDir: join(dir, "state"),
    logger,
    pollIntervalMs: 20,
    globIntervalMs: 100,
    rotateWaitMs: 200,
    partialLineTimeoutMs: 200,
    ...options,
  });
  const pipeline = new Pipeline({ sinks: [sink], transforms: [], logger, maxBufferBytes });
  const ps: PipelineSource = {
    name: "test",
    parser: createNoneParser(),
    commit: (id, offset) => source.commit(id, offset),
  };
  pipeline.start();
  await source.start((lines) => pipeline.accept(ps, lines));
  const h: Harness = {
    dir,
    sink,
    source,
    pipeline,
    async stop() {
      if (!running.delete(h)) return;
      sink.resume();
      await source.stop();
      await pipeline.drain(AbortSignal.timeout(5000));
      await source.checkpoint();
      await source.close();
    },
  };
  running.add(h);
  return h;
}

const running = new Set<Harness>();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-file-source-"));
  try {
    await fn(dir);
  } finally {
    for (const h of running) await h.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"x".repeat(80)}`;
function block(from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += `${line(i)}\n`;
  return text;
}

/** Asserts every line 0..n-1 arrived at least once; returns the number of duplicates. */
function assertAll(sink: MemorySink, n: number): number {
  const seen = new Set(sink.messages());
  const missing: number[] = [];
  for (let i = 0; i < n && missing.length < 5; i++) if (!seen.has(line(i))) missing.push(i);
  assert.deepEqual(missing, [], "lines missing");
  return sink.events.length - seen.size;
}

test("rotation by rename at a high rate, rotated names matched too: every line delivered, none twice", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "app.log");
    await writeFile(path, "");
    // A file that lives for a millisecond may be renamed away before any scan sees it: matching
    // the rotated names as well (as Vector and Fluent Bit advise) closes that gap.
    const h = await harness(dir, { include: [`${path}*`] });
    const total = 40_000;
    let handle = await open(path, "a");
    for (let i = 0; i < total; i += 200) {
      await handle.write(block(i, i + 200));
      if (i % 2000 === 1800) {
        await rename(path, join(dir, `app.log.${i}`)); // the writer keeps its fd a moment longer
        await handle.write(block(i + 200, i + 400));
        i += 200;
        await handle.close();
        handle = await open(path, "a");
      }
    }
    await handle.close();
    await until(() => new Set(h.sink.messages()).size >= total, "every line", 30_000);
    await h.stop();
    assert.equal(assertAll(h.sink, total), 0);
  });
});

test("rotation by rename at a high rate with only the live name matched: files are opened on their inotify event", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "app.log");
    await writeFile(path, "");
    const h = await harness(dir, { include: [path], globIntervalMs: 5000 });
    const total = 30_000;
    let handle = await open(path, "a");
    for (let i = 0; i < total; i += 200) {
      await handle.write(block(i, i + 200));
      if (i % 2000 === 1800) {
        await rename(path, join(dir, `app.log.${i}`));
        await handle.close();
        handle = await open(path, "a");
      }
    }
    await handle.close();
    await until(() => new Set(h.sink.messages()).size >= total, "every line", 20_000);
    await h.stop();
    assert.equal(assertAll(h.sink, total), 0);
  });
});

test("rotation by rename with only the live name matched: the old file is read to its end", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "app.log");
    await writeFile(path, "");
    const h = await harness(dir, { include: [path] });
    const total = 5000;
    let handle = await open(path, "a");
    for (let i = 0; i < total; i += 500) {
      await handle.write(block(i, i + 400));
      await until(() => h.sink.events.some((e) => e.message === line(i)), "the new file tracked");
      await rename(path, join(dir, `app.log.${i}`));
      await handle.write(block(i + 400, i + 500)); // written after the rename, to the old file
      await handle.close();
      handle = await open(path, "a");
    }
    await handle.close();
    await until(() => new Set(h.sink.messages()).size >= total, "every line", 20_000);
    await h.stop();
    assert.equal(assertAll(h.sink, total), 0);
  });
});

test("copytruncate at a high rate: every line delivered when the copy is matched too", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "app.log");
    await writeFile(path, "");
    const h = await harness(dir, { include: [`${path}*`], exclude: ["*.gz"] });
    const total = 30_000;
    const handle = await open(path, "a");
    let copies = 0;
    for (let i = 0; i < total; i += 300) {
      await handle.write(block(i, i + 300));
      if (i % 3000 === 2700) {
        await copyFile(path, join(dir, `app.log.${copies++}`));
        await truncate(path, 0);
      }
    }
    await handle.close();
    await until(() => new Set(h.sink.messages()).size >= total, "every line", 30_000);
    await h.stop();
    const duplicates = assertAll(h.sink, total);
    assert.ok(duplicates <= total / 10, `few duplicates (${duplicates})`);
  });
});

test("resumes from the checkpoint after a restart, with nothing lost and nothing read twice", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "app.log");
    await writeFile(path, block(0, 1000));
    const first = await harness(dir, { include: [path] });
    await until(() => first.sink.events.length === 1000, "first part");
    await first.stop();
    await appendFile(path, block(1000, 1500));
    const second = await harness(dir, { include: [path] });
    await until(() => second.sink.events.length >= 500, "second part");
    await second.stop();
    assert.equal(second.sink.events.length, 500);
    assert.equal(second.sink.messages()[0], line(1000));
  });
});

test("two files starting with the same line are told apart, also after a restart", async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, "a.log"), `same header\n${block(0, 10)}`);
    await writeFile(join(dir, "b.log"), `same header\n${block(10, 20)}`);
    const first = await harness(dir, { include: [join(dir, "*.log")] });
    await until(() => first.sink.events.length === 22, "both files");
    await first.stop();
    await appendFile(join(dir, "a.log"), block(20, 21));
    await appendFile(join(dir, "b.log"), block(21, 22));
    const second = await harness(dir, { include: [join(dir, "*.log")] });
    await until(() => second.sink.events.length >= 2, "the appended lines");
    await second.stop();
    assert.deepEqual(second.sink.messages().sort(), [line(20), line(21)]);
  });
});

test("a file renamed to another matched name is not read again", async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, "a.log"), block(0, 100));
    const h = await harness(dir, { include: [join(dir, "*.log")] });
    await until(() => h.sink.events.length === 100, "first read");
    await rename(join(dir, "a.log"), join(dir, "b.log"));
    await appendFile(join(dir, "b.log"), block(100, 110));
    await until(() => h.sink.events.length >= 110, "the appended lines");
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few rescans
    await h.stop();
    assert.equal(h.sink.events.length, 110);
  });
});

test("a deleted file is read to its end and released", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "gone.log");
    const handle = await open(path, "a");
    await handle.write(block(0, 50));
    const h = await harness(dir, { include: [path] });
    await until(() => h.sink.events.length === 50, "first lines");
    await unlink(path);
    await handle.write(block(50, 60)); // the writer still has it open
    await handle.close();
    await until(() => h.sink.events.length === 60, "lines written after the delete");
    await until(() => h.source.files().length === 0, "released");
    await h.stop();
  });
});

test("a slow receiver pauses reading with memory bounded, and nothing is lost", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "big.log");
    const total = 50_000; // ~4.5 MB
    await writeFile(path, block(0, total));
    const sink = new MemorySink();
    sink.pause();
    const h = await harness(
      dir,
      { include: [path], readChunkBytes: 64 * 1024 },
      { maxBufferBytes: 256 * 1024, sink },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [file] = h.source.files();
    assert.ok(
      file!.offset <= 256 * 1024 + 2 * 64 * 1024,
      `reading paused (offset ${file!.offset})`,
    );
    assert.ok(h.pipeline.bufferedBytes <= 256 * 1024 + 64 * 1024);
    sink.resume();
    await until(() => sink.events.length >= total, "everything", 20_000);
    await h.stop();
    assert.equal(assertAll(sink, total), 0);
  });
});

test("long lines are split and a last line without newline is sent after the timeout", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "long.log");
    await writeFile(path, `${"y".repeat(2_500_000)}\nshort\nno newline`);
    const h = await harness(dir, {
      include: [path],
      maxLineBytes: 1_000_000,
      readChunkBytes: 256 * 1024,
    });
    await until(() => h.sink.messages().includes("no newline"), "the partial line", 10_000);
    await h.stop();
    assert.deepEqual(
      h.sink.events.map((e) => e.message.length),
      [1_000_000, 1_000_000, 500_000, 5, 10],
    );
  });
});

// The periodic rescan is set to an hour in these two tests: only the directory watches can find
// the new files, so a missing watch fails the test instead of being hidden by a rescan.
test("a log directory created after start is followed through its existing ancestor's watch", async () => {
  await withDir(async (dir) => {
    const h = await harness(dir, {
      include: [join(dir, "later", "app", "*.log")],
      globIntervalMs: 3_600_000,
    });
    await mkdir(join(dir, "later", "app"), { recursive: true });
    await until(() => h.source.watchedDirectories().includes(join(dir, "later", "app")), "watch");
    await writeFile(join(dir, "later", "app", "a.log"), block(0, 20));
    await until(() => h.sink.events.length === 20, "the lines of the late directory's file");
    await h.stop();
    assert.deepEqual(h.sink.messages(), block(0, 20).trimEnd().split("\n"));
  });
});

test("a deep glob (pods/*/*/*.log) follows pod and container directories created after start", async () => {
  await withDir(async (dir) => {
    await mkdir(join(dir, "pods"));
    const h = await harness(dir, {
      include: [join(dir, "pods", "*", "*", "*.log")],
      globIntervalMs: 3_600_000,
    });
    for (const [pod, from] of [
      ["ns_a_1", 0],
      ["ns_b_2", 10],
    ] as const) {
      const container = join(dir, "pods", pod, "app");
      await mkdir(container, { recursive: true });
      await until(() => h.source.watchedDirectories().includes(container), `watch of ${pod}`);
      await writeFile(join(container, "0.log"), block(from, from + 5));
      await until(() => h.sink.events.length === from + 5, `the first lines of ${pod}`);
      await appendFile(join(container, "0.log"), block(from + 5, from + 10));
      await until(() => h.sink.events.length === from + 10, `the appended lines of ${pod}`);
    }
    await rm(join(dir, "pods", "ns_a_1"), { recursive: true });
    await until(
      () => !h.source.watchedDirectories().some((d) => d.includes("ns_a_1")),
      "the removed pod's watches closed",
    );
    await h.stop();
    assert.equal(h.sink.events.length, 20);
  });
});

test("a ** glob watches its directory recursively: files in new nested directories are found", async () => {
  await withDir(async (dir) => {
    await mkdir(join(dir, "logs"));
    const h = await harness(dir, {
      include: [join(dir, "logs", "**", "*.log")],
      globIntervalMs: 3_600_000,
    });
    assert.deepEqual(h.source.watchedDirectories(), [join(dir, "logs")]);
    await mkdir(join(dir, "logs", "a", "b"), { recursive: true });
    await writeFile(join(dir, "logs", "a", "b", "deep.log"), block(0, 5));
    await until(() => h.sink.events.length === 5, "the nested file's lines");
    await h.stop();
  });
});

test("a new file with the same first line and the same last 32 bytes before the checkpoint is read from its start", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "app.log");
    // JSON lines that end alike: the 32 bytes before any line boundary are the same in both files.
    const json = (id: string) => `{"msg":"request ${id}","service":"checkout","level":"info"}\n`;
    const old = `starting\n${["a1", "a2", "a3", "a4"].map(json).join("")}`;
    await writeFile(path, old);
    const first = await harness(dir, { include: [path] });
    await until(() => first.sink.events.length === 5, "the old file");
    await first.stop();
    await unlink(path);
    await writeFile(path, `starting\n${["b1", "b2", "b3", "b4", "b5"].map(json).join("")}`);
    const second = await harness(dir, { include: [path] });
    await until(() => second.sink.events.length >= 6, "the new file from its start");
    await second.stop();
    assert.equal(second.sink.messages()[1], json("b1").trimEnd());
  });
});

test("maxOpenFiles: idle files read to their end are closed and continue from their checkpoint when they grow", async () => {
  await withDir(async (dir) => {
    for (let i = 0; i < 6; i++) await writeFile(join(dir, `f${i}.log`), `f${i} a\nf${i} b\n`);
    const h = await harness(dir, { include: [join(dir, "*.log")], maxOpenFiles: 2 });
    await until(() => h.sink.messages().length === 12, "the first lines of every file");
    await until(() => h.source.files().length <= 2, "idle files closed down to the cap");
    for (const i of [0, 3, 5]) await appendFile(join(dir, `f${i}.log`), `f${i} c\n`);
    await until(() => h.sink.messages().length === 15, "the lines appended to closed files");
    assert.deepEqual(
      [...h.sink.messages()].sort(),
      [0, 1, 2, 3, 4, 5]
        .flatMap((i) => [`f${i} a`, `f${i} b`])
        .concat(["f0 c", "f3 c", "f5 c"])
        .sort(),
      "every line once, none read again",
    );
    await until(() => h.source.files().length <= 2, "closed again once idle");
  });
});

/**
 * A checkpoint file as the test sees it, {} when missing. The fast file is rewritten in place by
 * the main thread while readFile reads on the thread pool, so a read can catch it torn (the
 * source itself ignores a torn one at start): read again until it parses, a few times at most.
 */
async function readCheckpointFile(path: string): Promise<{ checkpoints?: { offset: number }[] }> {
  for (let attempt = 1; ; attempt++) {
    const text = await readFile(path, "utf8").catch(() => "{}");
    try {
      return JSON.parse(text) as { checkpoints?: { offset: number }[] };
    } catch (error) {
      if (attempt === 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

test("checkpoints of many files written at once are written at most once per checkpointIntervalMs, plus one per rotation", async () => {
  await withDir(async (dir) => {
    const files = 60;
    const paths = Array.from({ length: files }, (_, i) => join(dir, `f${i}.log`));
    for (const path of paths) await writeFile(path, "");
    const intervalMs = 300;
    const h = await harness(
      dir,
      { include: [join(dir, "*.log")], checkpointIntervalMs: intervalMs },
      { sink: Object.assign(new MemorySink(), { delayMs: 2 }) },
    );
    let writes = 0;
    const { checkpointer } = h.source;
    const writeNow = checkpointer.writeNow.bind(checkpointer);
    const flush = checkpointer.flush.bind(checkpointer);
    checkpointer.writeNow = () => {
      writes++;
      writeNow();
    };
    checkpointer.flush = (options) => {
      writes++;
      return flush(options);
    };
    const started = performance.now();
    // Every file written at once, round after round: many acknowledged batches per interval.
    // Ten files rotated by rename halfway: each is released once read (a write each).
    const rounds = 30;
    const rotations = 10;
    for (let r = 0; r < rounds; r++) {
      if (r === rounds / 2)
        for (let i = 0; i < rotations; i++) await rename(paths[i]!, `${paths[i]!}.1`);
      await Promise.all(paths.map((path, i) => appendFile(path, `f${i} r${r}\n`)));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(() => h.sink.events.length >= files * rounds, "every line");
    await until(() => h.source.files().length === files, "the rotated files released");
    // Every file's acknowledged offset reaches the checkpoint file within about an interval.
    await until(
      () => paths.every((_, i) => checkpointer.all().some((c) => c.path.endsWith(`f${i}.log`))),
      "every file checkpointed",
    );
    const elapsed = performance.now() - started;
    const bound = Math.ceil(elapsed / intervalMs) + rotations + 3;
    assert.ok(
      writes <= bound,
      `${writes} checkpoint writes in ${elapsed.toFixed(0)} ms (bound ${bound})`,
    );
    const written = await readCheckpointFile(join(dir, "state", "checkpoints.fast.json"));
    const main = await readCheckpointFile(join(dir, "state", "checkpoints.json"));
    const newest = [written, main]
      .map((f) => f.checkpoints ?? [])
      .sort((a, b) => b.length - a.length)[0]!;
    assert.equal(
      newest.length,
      files + rotations,
      "one checkpoint per file, coalesced into one write",
    );
  });
});

/** Each file's messages, by file name. */
function byFile(sink: MemorySink): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const event of sink.events) {
    const name = event.source.split("/").pop()!;
    out[name] = [...(out[name] ?? []), event.message];
  }
  return out;
}

test("fingerprint collision: a new file starting like a file read before a restart does not take its checkpoint", async () => {
  await withDir(async (dir) => {
    const banner = `{"service":"checkout","msg":"starting"}`;
    await writeFile(join(dir, "z.log"), `${banner}\n`);
    const first = await harness(dir, { include: [join(dir, "*.log")] });
    await until(() => first.sink.events.length === 1, "the first file");
    await first.stop();
    // Another file with the same first line (sorted before it), and one more line in the first.
    await writeFile(join(dir, "a.log"), `${banner}\nb1\n`);
    await appendFile(join(dir, "z.log"), "z1\n");
    const second = await harness(dir, { include: [join(dir, "*.log")] });
    await until(() => second.sink.events.length >= 3, "the new file and the appended line");
    await second.stop();
    assert.deepEqual(byFile(second.sink), { "a.log": [banner, "b1"], "z.log": ["z1"] });
  });
});

test("fingerprint collision: a new file starting like a file closed under maxOpenFiles does not take its checkpoint", async () => {
  await withDir(async (dir) => {
    const banner = `{"service":"checkout","msg":"starting"}`;
    await writeFile(join(dir, "a.log"), `${banner}\n`);
    await writeFile(join(dir, "other.log"), "other\n");
    const h = await harness(dir, { include: [join(dir, "*.log")], maxOpenFiles: 1 });
    await until(
      () => h.sink.events.length === 2 && h.source.files().length <= 1,
      "one file closed",
    );
    await writeFile(join(dir, "b.log"), `${banner}\nb1\n`);
    await until(() => h.sink.events.length >= 4, "the new file");
    await appendFile(join(dir, "a.log"), "a1\n");
    await until(() => h.sink.events.length >= 5, "the closed file's new line");
    await h.stop();
    const files = byFile(h.sink);
    assert.deepEqual(files["b.log"], [banner, "b1"]);
    assert.deepEqual(files["a.log"], [banner, "a1"]);
  });
});

test("fingerprint collision: a new file starting like an open file is read from its start, not from that file's offset", async () => {
  await withDir(async (dir) => {
    const banner = `{"service":"checkout","msg":"starting"}`;
    await writeFile(join(dir, "a.log"), `${banner}\n`);
    const h = await harness(dir, { include: [join(dir, "*.log")] });
    await until(() => h.sink.events.length === 1, "the first file");
    await writeFile(join(dir, "b.log"), `${banner}\nb1\n`);
    await until(() => h.sink.events.length >= 3, "the new file");
    await appendFile(join(dir, "a.log"), "a1\n");
    await until(() => h.sink.events.length >= 4, "the open file's new line");
    await h.stop();
    assert.deepEqual(byFile(h.sink), { "a.log": [banner, "a1"], "b.log": [banner, "b1"] });
  });
});
