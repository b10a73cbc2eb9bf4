import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { switchablePressure } from "../../runtime/testing.ts";
import { createNoneParser } from "../parsers/none/index.ts";
import { FileSource } from "../sources/file/file-source.ts";
import { Pipeline, type PipelineSource } from "./pipeline.ts";
import { MemorySink, memoryLogger, until } from "./testing/memory-sink.ts";

test("under memory pressure a file source reads no further than one unacknowledged chunk, and loses nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-pressure-"));
  const { logger } = memoryLogger();
  const pressure = switchablePressure();
  const sink = new MemorySink();
  const source = new FileSource({
    name: "test",
    include: [join(dir, "*.log")],
    stateDir: join(dir, "state"),
    logger,
    readFrom: "head",
    pollIntervalMs: 20,
    globIntervalMs: 100,
    readChunkBytes: 64 * 1024,
  });
  const pipeline = new Pipeline({
    sinks: [sink],
    transforms: [],
    logger,
    maxBufferBytes: 4 * 1024 * 1024,
    pressure,
  });
  const count = 40_000;
  const body = Array.from(
    { length: count },
    (_, i) => `line ${String(i).padStart(8, "0")} ${"x".repeat(30)}`,
  );
  try {
    await writeFile(join(dir, "app.log"), `${body.join("\n")}\n`);
    pressure.set(true);
    sink.pause();
    const ps: PipelineSource = {
      name: "test",
      parser: createNoneParser(),
      commit: (id, offset) => source.commit(id, offset),
    };
    pipeline.start();
    await source.start((lines) => pipeline.accept(ps, lines));
    await until(() => sink.writes >= 1, "the first chunk handed to the sink");
    // Several poll intervals: the source must still be waiting on that one chunk.
    await sleep(200);
    assert.equal(sink.writes, 1, "one hand-off while it is unacknowledged");
    assert.ok(pipeline.bufferedBytes <= 64 * 1024, `${pipeline.bufferedBytes} bytes buffered`);
    assert.ok(source.lagBytes() > 1024 * 1024, "the rest waits on disk");

    // Acknowledgements let it go on one chunk at a time.
    sink.resume();
    await until(() => sink.writes >= 4, "reading on, chunk by chunk");
    sink.pause();
    const paused = sink.writes;
    await sleep(100);
    assert.ok(sink.writes <= paused + 1, "still one unacknowledged chunk at most");

    // Pressure over: reading runs ahead of the acknowledgements again, up to the buffer.
    pressure.set(false);
    await until(() => sink.writes > paused + 3, "reading at full speed");
    sink.resume();
    await until(() => sink.events.length === count, "every line delivered");
    assert.deepEqual(sink.messages(), body);
  } finally {
    sink.resume();
    await source.stop();
    await pipeline.drain(AbortSignal.timeout(5000));
    await source.close();
    await rm(dir, { recursive: true, force: true });
  }
});
