import assert from "node:assert/strict";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { until } from "../src/runtime/testing.ts";
import { startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

interface Written {
  checkpoints: { path: string; offset: number }[];
  seq?: number;
}

/** The checkpoints a restart starts from: the newer readable one of the two files. */
async function checkpointsOnDisk(dir: string): Promise<Map<string, number>> {
  const read = async (name: string) =>
    JSON.parse(await readFile(join(dir, name), "utf8").catch(() => "null")) as Written | null;
  const [main, fast] = [await read("checkpoints.json"), await read("checkpoints.fast.json")];
  const chosen = fast && (!main || (fast.seq ?? 0) > (main.seq ?? 0)) ? fast : main;
  return new Map((chosen?.checkpoints ?? []).map((c) => [c.path, c.offset]));
}

test("node logs, checkpoints at most every 500 ms: kill -9 while 100 files are written at once, nothing lost, what is sent again is only what was acknowledged past the checkpoint", async (t) => {
  const dir = await tempDir();
  const pods = join(dir.path, "pods");
  const out = join(dir.path, "out.jsonl");
  const state = join(dir.path, "state");
  const files = 100;
  const path = (i: number) => join(pods, `ns_web-${i}_uid-${i}`, "app", "0.log");
  /** Each file's lines, in order, and the byte offset after each. */
  const lines = Array.from({ length: files }, () => [] as { text: string; end: number }[]);
  const sizes = new Array<number>(files).fill(0);
  let clock = 0;
  const write = async (i: number, count: number) => {
    let chunk = "";
    for (let n = 0; n < count; n++) {
      const text = `pod ${i} line ${lines[i]!.length + n}`;
      chunk += `2026-11-27T10:00:00.${String(++clock).padStart(9, "0")}Z stdout F ${text}\n`;
    }
    await appendFile(path(i), chunk);
    let end = sizes[i]!;
    for (const line of chunk.split("\n").slice(0, -1)) {
      end += Buffer.byteLength(line) + 1;
      lines[i]!.push({ text: / F (.*)$/.exec(line)![1]!, end });
    }
    sizes[i] = end;
  };
  const delivered = async () =>
    (await readFile(out, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { message: string }).message);
  const config = await writeConfig(
    dir.path,
    `admin: { address: "127.0.0.1:0" }
node:
  collectors: { disableDefaults: true }
  logs:
    stateDir: ${state}
    buffer: { batchEvents: 200 }
    sources:
      - type: file
        name: pods
        include: ["${join(pods, "*/*/*.log")}"]
        parser: { type: cri }
    sinks: [{ type: file, path: "${out}", batch: { maxEvents: 200 } }]
`,
  );
  try {
    for (let i = 0; i < files; i++) {
      await mkdir(join(pods, `ns_web-${i}_uid-${i}`, "app"), { recursive: true });
      await write(i, 50);
    }
    const first = startSidecar(["node", "-c", config]);
    try {
      await until(async () => (await delivered()).length >= files * 50, "the first lines", 30_000);
      // Every file written at once, round after round, and the agent killed in the middle.
      // Several checkpoint intervals of writing: the checkpoints on disk are behind by at most one.
      for (let round = 0; round < 20; round++) {
        await Promise.all(Array.from({ length: files }, (_, i) => write(i, 20)));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      assert.equal(await first.stop("SIGKILL"), 137);
    }
    const beforeKill = await delivered();
    const onDisk = await checkpointsOnDisk(join(state, "pods"));
    // Only acknowledged offsets are checkpointed: every line before a checkpoint was delivered.
    const sent = new Set(beforeKill);
    let pastCheckpoint = 0;
    for (let i = 0; i < files; i++) {
      const offset = onDisk.get(path(i)) ?? 0;
      for (const line of lines[i]!) {
        if (line.end <= offset)
          assert.ok(sent.has(line.text), `${line.text} checkpointed, not delivered`);
        else if (sent.has(line.text)) pastCheckpoint++;
      }
    }
    for (let i = 0; i < files; i++) await write(i, 5);
    const second = startSidecar(["node", "-c", config]);
    try {
      const total = lines.reduce((n, l) => n + l.length, 0);
      await until(
        async () => new Set(await delivered()).size >= total,
        "every line, after the restart",
        60_000,
      );
    } finally {
      assert.equal(await second.stop(), 0);
    }
    const all = await delivered();
    const unique = new Set(all);
    const expected = lines.flat().map((l) => l.text);
    assert.deepEqual(
      expected.filter((l) => !unique.has(l)),
      [],
      "nothing lost",
    );
    assert.equal(unique.size, expected.length, "nothing invented");
    const duplicates = all.length - unique.size;
    // What is sent again is exactly what was acknowledged past the checkpoints on disk.
    assert.equal(duplicates, pastCheckpoint);
    t.diagnostic(
      `${expected.length} lines in ${files} files; ${beforeKill.length} delivered before kill -9; ${duplicates} duplicates after the restart`,
    );
  } finally {
    await dir.cleanup();
  }
});
