import assert from "node:assert/strict";
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { until } from "../src/runtime/testing.ts";
import { startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

interface Event {
  message: string;
  fields?: Record<string, unknown>;
  [key: string]: unknown;
}

async function events(path: string): Promise<Event[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Event);
}

let written = 0;
/** A CRI line; each has its own time, as the runtime's nanosecond clock gives them. */
const cri = (text: string, tag = "F") =>
  `2026-11-27T10:00:00.${String(++written).padStart(9, "0")}Z stdout ${tag} ${text}\n`;

/** Lines `pod <i> line <from..>`, the first of each block written as two partial pieces. */
function block(pod: number, from: number, count: number): { text: string; lines: string[] } {
  let text = "";
  const lines: string[] = [];
  for (let j = from; j < from + count; j++) {
    const line = `pod ${pod} line ${j}`;
    text += j === from ? cri(`pod ${pod} `, "P") + cri(`line ${j}`) : cri(line);
    lines.push(line);
  }
  return { text, lines };
}

test("node logs: hundreds of pods, kill -9, rotation and gzip while down, pods gone and new: nothing lost, metadata right", async (t) => {
  const dir = await tempDir();
  const pods = join(dir.path, "pods");
  const out = join(dir.path, "out.jsonl");
  const podDir = (i: number) => join(pods, `ns${i % 5}_web-${i}_uid-${i}`, "app");
  const expected = new Set<string>();
  const write = async (i: number, from: number, count: number, file = "0.log") => {
    const { text, lines } = block(i, from, count);
    await appendFile(join(podDir(i), file), text);
    for (const line of lines) expected.add(line);
  };
  const config = await writeConfig(
    dir.path,
    `admin: { address: "127.0.0.1:0" }
node:
  collectors: { disableDefaults: true }
  logs:
    stateDir: ${join(dir.path, "state")}
    sources:
      - type: file
        include: ["${join(pods, "*/*/*.log*")}"]
        exclude: ["*.gz", "*.tmp"]
        parser: { type: cri }
        globIntervalSeconds: 0.2
        rotateWaitSeconds: 0.5
        maxOpenFiles: 100
    sinks: [{ type: file, path: "${out}" }]
`,
  );
  const podCount = 300;
  try {
    for (let i = 0; i < podCount; i++) {
      await mkdir(podDir(i), { recursive: true });
      await write(i, 0, 20);
    }
    const first = startSidecar(["node", "-c", config], { env: { NODE_NAME: "node-a" } });
    try {
      await until(
        async () => (await events(out)).length >= podCount * 20,
        "the first lines",
        30_000,
      );
      // 300 files, at most 100 held open (the rest: sockets, stdio, inotify, the checkpoint file).
      await until(
        async () => (await readdir(`/proc/${first.child.pid}/fd`)).length <= 100 + 40,
        "idle files closed down to maxOpenFiles",
        10_000,
      );
      // Rotated and then compressed by kubelet once read: the .gz is never read again.
      for (let i = 0; i < 10; i++) {
        await rename(join(podDir(i), "0.log"), join(podDir(i), "0.log.20261127-090000"));
        await write(i, 20, 5);
      }
      await until(
        async () => new Set((await events(out)).map((e) => e.message)).size >= expected.size,
        "the lines after the first rotation",
        30_000,
      );
      for (let i = 0; i < 10; i++) {
        const rotated = join(podDir(i), "0.log.20261127-090000");
        await writeFile(`${rotated}.gz`, await promisify(gzip)(await readFile(rotated)));
        await rm(rotated);
      }
      // 20 pods go away once read (kubelet deletes their directories); their files are released.
      for (let i = podCount - 20; i < podCount; i++)
        await rm(join(pods, `ns${i % 5}_web-${i}_uid-${i}`), { recursive: true });
      // Lines being written as the agent dies.
      for (let i = 0; i < podCount - 20; i += 3) await write(i, 100, 30);
    } finally {
      assert.equal(await first.stop("SIGKILL"), 137);
    }
    const beforeRestart = (await events(out)).length;
    // While the agent is down: kubelet rotates 50 pods (the old file got more lines first) and
    // 20 new pods start.
    for (let i = 20; i < 70; i++) {
      await write(i, 200, 10);
      await rename(join(podDir(i), "0.log"), join(podDir(i), "0.log.20261127-100000"));
      await write(i, 300, 10);
    }
    for (let i = podCount; i < podCount + 20; i++) {
      await mkdir(podDir(i), { recursive: true });
      await write(i, 0, 15);
    }
    const second = startSidecar(["node", "-c", config], { env: { NODE_NAME: "node-a" } });
    try {
      await until(
        async () => {
          const seen = new Set((await events(out)).map((e) => e.message));
          return [...expected].every((line) => seen.has(line));
        },
        "every line, after the restart",
        60_000,
      );
    } finally {
      assert.equal(await second.stop(), 0);
    }
    const all = await events(out);
    const unique = new Set(all.map((e) => e.message));
    assert.deepEqual(
      [...expected].filter((line) => !unique.has(line)),
      [],
    );
    assert.deepEqual(
      [...unique].filter((line) => !expected.has(line)),
      [],
      "nothing invented",
    );
    for (const event of all) {
      const fields = event.fields ?? event;
      const pod = Number(/^pod (\d+) /.exec(event.message)![1]);
      assert.deepEqual(
        [fields.namespace, fields.pod, fields.pod_uid, fields.container, fields.node],
        [`ns${pod % 5}`, `web-${pod}`, `uid-${pod}`, "app", "node-a"],
        event.message,
      );
    }
    t.diagnostic(
      `${expected.size} lines from ${podCount + 20} pods; ${beforeRestart} delivered before kill -9; ${all.length - unique.size} duplicates`,
    );
  } finally {
    await dir.cleanup();
  }
});
