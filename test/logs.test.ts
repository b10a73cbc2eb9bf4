import assert from "node:assert/strict";
import { appendFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { HttpReceiver } from "../src/logs/sinks/testing/http-receiver.ts";
import { until as untilHolds } from "../src/runtime/testing.ts";
import { httpGet, startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"x".repeat(80)}`;
function block(from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += `${line(i)}\n`;
  return text;
}

/** The messages in a JSON-lines file written by the file sink (a torn last line is ignored). */
async function messages(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const row of text.split("\n")) {
    if (!row) continue;
    try {
      out.push((JSON.parse(row) as { message: string }).message);
    } catch {
      // the last line of a killed writer
    }
  }
  return out;
}

const until = (condition: () => Promise<boolean>, what: string, timeoutMs = 20_000) =>
  untilHolds(condition, what, timeoutMs, 20);

const adminOnPortZero = 'admin: { address: "127.0.0.1:0" }\n';

test("sidecar logs --path … --sink file:… tails files and delivers every line", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(dir.path, adminOnPortZero);
    await writeFile(join(dir.path, "a.log"), block(0, 100));
    const out = join(dir.path, "out.jsonl");
    const proc = startSidecar([
      "logs",
      "-c",
      config,
      "--path",
      join(dir.path, "*.log"),
      "--sink",
      `file:${out}`,
      "--state-dir",
      join(dir.path, "state"),
    ]);
    try {
      await proc.waitFor("tailing file");
      await appendFile(join(dir.path, "a.log"), block(100, 200));
      await writeFile(join(dir.path, "b.log"), block(200, 250));
      await until(async () => (await messages(out)).length >= 250, "250 lines");
    } finally {
      assert.equal(await proc.stop(), 0);
    }
    assert.deepEqual((await messages(out)).sort(), block(0, 250).trim().split("\n").sort());
    assert.match(proc.stdout(), /logs stopped; everything read was delivered/);
    const checkpoints = JSON.parse(
      await readFile(join(dir.path, "state", "file-0", "checkpoints.json"), "utf8"),
    );
    assert.equal(checkpoints.checkpoints.length, 2);
  } finally {
    await dir.cleanup();
  }
});

test("kill -9 mid-stream and restart with a checkpoint after every batch (checkpointIntervalMs 0): every line delivered at least once, about a batch of duplicates", async (t) => {
  const dir = await tempDir();
  try {
    const total = 300_000; // ~27 MB
    const batch = 1000;
    const config = await writeConfig(
      dir.path,
      `${adminOnPortZero}logs:\n  stateDir: ${join(dir.path, "state")}\n  buffer: { maxBytes: 1048576, batchEvents: ${batch} }\n  sources: [{ type: file, include: ["${join(dir.path, "*.log")}"], readChunkBytes: 65536, checkpointIntervalMs: 0 }]\n  sinks: [{ type: file, path: "${join(dir.path, "out.jsonl")}", batch: { maxEvents: ${batch} } }]\n`,
    );
    await writeFile(join(dir.path, "big.log"), block(0, total));
    const out = join(dir.path, "out.jsonl");
    const first = startSidecar(["logs", "-c", config]);
    try {
      await until(
        async () => ((await stat(out).catch(() => undefined))?.size ?? 0) > 2_000_000,
        "some output",
      );
    } finally {
      assert.equal(await first.stop("SIGKILL"), 137);
    }
    const delivered = (await messages(out)).length;
    assert.ok(delivered < total, `killed mid-stream (${delivered} of ${total} delivered)`);
    const second = startSidecar(["logs", "-c", config]);
    try {
      await until(async () => new Set(await messages(out)).size >= total, "every line", 40_000);
    } finally {
      assert.equal(await second.stop(), 0);
    }
    const all = await messages(out);
    const unique = new Set(all);
    assert.equal(unique.size, total);
    const duplicates = all.length - unique.size;
    t.diagnostic(
      `killed after ${delivered} of ${total} lines; ${duplicates} duplicates after the restart`,
    );
    // A crash re-reads what was acknowledged since the last checkpoint write: about one batch.
    assert.ok(duplicates <= 2 * batch, `duplicates after kill -9: ${duplicates}`);
  } finally {
    await dir.cleanup();
  }
});

test("sidecar run with a stdout source: the app's output reaches the terminal and the sink", async () => {
  const dir = await tempDir();
  try {
    const out = join(dir.path, "out.jsonl");
    const config = await writeConfig(
      dir.path,
      `${adminOnPortZero}logs:\n  stateDir: ${join(dir.path, "state")}\n  sources: [{ type: stdout }]\n  sinks: [{ type: file, path: "${out}" }]\n`,
    );
    const app = `for (let i = 0; i < 2000; i++) console.log("app says " + i); console.error("to stderr"); process.stdout.write("no newline at the end")`;
    const proc = startSidecar(["run", "-c", config, "--", process.execPath, "-e", app]);
    const code = await proc.exited;
    assert.equal(code, 0, proc.stderr());
    assert.match(proc.stdout(), /app says 1999/);
    assert.match(proc.stderr(), /to stderr/);
    const got = await messages(out);
    assert.equal(got.filter((m) => m.startsWith("app says ")).length, 2000);
    assert.ok(got.includes("to stderr"));
    assert.ok(
      got.includes("no newline at the end"),
      "the last partial line is flushed when the app ends",
    );
  } finally {
    await dir.cleanup();
  }
});

/** A metric's value from the admin server's /metrics (0 when absent). */
async function metric(admin: string, name: string): Promise<number> {
  const { body } = await httpGet(`${admin}/metrics`);
  let sum = 0;
  for (const row of body.split("\n"))
    if (row.startsWith(`${name} `) || row.startsWith(`${name}{`))
      sum += Number(row.split(" ").at(-1));
  return sum;
}

test("receiver down, then back: reading pauses with the buffer bounded, then every line arrives", async () => {
  const dir = await tempDir();
  const receiver = await new HttpReceiver().start();
  receiver.respondWith(() => ({ status: 503 }));
  try {
    const total = 100_000; // ~9 MB
    const maxBytes = 256 * 1024;
    const chunk = 64 * 1024;
    const config = await writeConfig(
      dir.path,
      `${adminOnPortZero}logs:\n  stateDir: ${join(dir.path, "state")}\n  buffer: { maxBytes: ${maxBytes} }\n  sources: [{ type: file, include: ["${join(dir.path, "*.log")}"], readChunkBytes: ${chunk} }]\n  sinks: [{ type: http, url: "${receiver.url}/ingest", retry: { initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2 } }]\n`,
    );
    await writeFile(join(dir.path, "app.log"), block(0, total));
    const proc = startSidecar(["logs", "-c", config]);
    try {
      await proc.waitFor("admin server listening");
      const admin = /"address":"(http:[^"]+)"/.exec(proc.stdout())![1]!;
      await until(async () => receiver.requests.length >= 5, "retries against the down receiver");
      const read = await metric(admin, "sidecar_logs_bytes_read_total");
      const buffered = await metric(admin, "sidecar_logs_buffer_bytes");
      const lag = await metric(admin, "sidecar_logs_lag_bytes");
      assert.ok(buffered <= maxBytes + chunk, `buffer bounded (${buffered})`);
      assert.ok(read <= maxBytes + 2 * chunk, `reading paused (${read} bytes read)`);
      assert.ok(lag >= total * 90, `lag counts the unsent file (${lag})`);
      receiver.respondWith(undefined);
      const lines = () =>
        new Set(receiver.accepted.flatMap((r) => r.body.split("\n").filter(Boolean)));
      await until(
        async () => lines().size >= total,
        "every line after the receiver came back",
        30_000,
      );
      await until(
        async () => (await metric(admin, "sidecar_logs_lag_bytes")) === 0,
        "lag back to 0",
      );
    } finally {
      assert.equal(await proc.stop(), 0);
    }
    assert.match(proc.stdout(), /logs stopped; everything read was delivered/);
  } finally {
    await receiver.stop();
    await dir.cleanup();
  }
});

test("sidecar run: lines the app writes while stopping are delivered (logs stops after the app)", async () => {
  const dir = await tempDir();
  try {
    const log = join(dir.path, "app.log");
    const out = join(dir.path, "out.jsonl");
    const config = await writeConfig(
      dir.path,
      `${adminOnPortZero}logs:\n  stateDir: ${join(dir.path, "state")}\n  sources: [{ type: file, include: ["${log}"] }]\n  sinks: [{ type: file, path: "${out}" }]\n`,
    );
    const app = `
      const fs = require("node:fs");
      const fd = fs.openSync(${JSON.stringify(log)}, "a");
      let i = 0;
      const timer = setInterval(() => fs.writeSync(fd, "working " + i++ + "\\n"), 5);
      process.on("SIGTERM", () => {
        clearInterval(timer);
        setTimeout(() => {
          for (let k = 0; k < 1000; k++) fs.writeSync(fd, "goodbye " + k + "\\n");
          process.exit(0);
        }, 300);
      });
      console.log("app up");`;
    const proc = startSidecar(["run", "-c", config, "--", process.execPath, "-e", app]);
    await proc.waitFor("app up");
    await until(async () => (await messages(out)).length > 10, "the app's first lines");
    assert.equal(await proc.stop(), 0);
    const got = await messages(out);
    assert.equal(got.filter((m) => m.startsWith("goodbye ")).length, 1000, "every last line");
    const working = got.filter((m) => m.startsWith("working ")).length;
    assert.deepEqual(
      got.filter((m) => m.startsWith("working ")),
      Array.from({ length: working }, (_, i) => `working ${i}`),
    );
  } finally {
    await dir.cleanup();
  }
});

test("receiver down at shutdown: the sidecar exits within the grace period, and the next start sends what was left", async () => {
  const dir = await tempDir();
  const receiver = await new HttpReceiver().start();
  receiver.respondWith(() => ({ status: 503 }));
  try {
    const total = 20_000;
    const config = await writeConfig(
      dir.path,
      `${adminOnPortZero}shutdown: { gracePeriodSeconds: 2 }\nlogs:\n  stateDir: ${join(dir.path, "state")}\n  buffer: { maxBytes: 262144 }\n  sources: [{ type: file, include: ["${join(dir.path, "*.log")}"] }]\n  sinks: [{ type: http, url: "${receiver.url}/ingest", retry: { initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2 } }]\n`,
    );
    await writeFile(join(dir.path, "app.log"), block(0, total));
    const first = startSidecar(["logs", "-c", config]);
    await until(async () => receiver.requests.length >= 3, "retries against the down receiver");
    const stopping = Date.now();
    const code = await first.stop();
    assert.ok(Date.now() - stopping < 8000, "exits soon after the grace period");
    assert.equal(code, 1, "a shutdown that ran out of time exits with 1");
    assert.match(first.stdout(), /logs stopped with lines unsent/);
    receiver.respondWith(undefined);
    const second = startSidecar(["logs", "-c", config]);
    try {
      const lines = () =>
        new Set(receiver.accepted.flatMap((r) => r.body.split("\n").filter(Boolean)));
      await until(async () => lines().size >= total, "every line on the next start", 30_000);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  } finally {
    await receiver.stop();
    await dir.cleanup();
  }
});

test("stdout with a disk buffer: what could not be sent before the sidecar stopped is sent on the next start", async () => {
  const dir = await tempDir();
  const receiver = await new HttpReceiver().start();
  receiver.respondWith(() => ({ status: 503 }));
  try {
    const config = await writeConfig(
      dir.path,
      `${adminOnPortZero}shutdown: { gracePeriodSeconds: 1 }\nlogs:\n  stateDir: ${join(dir.path, "state")}\n  sources: [{ type: stdout, diskBuffer: { segmentBytes: 65536 } }]\n  sinks: [{ type: http, url: "${receiver.url}/ingest", retry: { initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2 } }]\n`,
    );
    const total = 5000;
    const app = `for (let i = 0; i < ${total}; i++) console.log("app line " + i)`;
    const first = startSidecar(["run", "-c", config, "--", process.execPath, "-e", app]);
    await first.exited;
    assert.match(first.stdout(), /logs stopped with lines unsent/);
    receiver.respondWith(undefined);
    const second = startSidecar([
      "run",
      "-c",
      config,
      "--",
      process.execPath,
      "-e",
      "setTimeout(() => {}, 1500)",
    ]);
    assert.equal(await second.exited, 0, second.stdout());
    const got = new Set(
      receiver.accepted.flatMap((r) =>
        r.body
          .split("\n")
          .filter(Boolean)
          .map((row) => (JSON.parse(row) as { message: string }).message),
      ),
    );
    for (let i = 0; i < total; i++) assert.ok(got.has(`app line ${i}`), `app line ${i} delivered`);
    const spool = await readdir(join(dir.path, "state", "stdout", "spool"));
    assert.deepEqual(
      spool.filter((name) => name.endsWith(".log")),
      [],
      "acknowledged spool segments are deleted",
    );
  } finally {
    await receiver.stop();
    await dir.cleanup();
  }
});
