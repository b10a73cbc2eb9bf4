import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { testRoleContext, until } from "../runtime/testing.ts";
import { nodeOverlay } from "./node-command.ts";
import { nodeConfigSchema } from "./node-config.ts";
import { createNodeRole } from "./node-role.ts";

test("a collector that cannot read its files is reported as failed; the others are served", async () => {
  const ctx = testRoleContext();
  const role = createNodeRole(
    nodeConfigSchema.parse({
      procfs: "/nonexistent/proc",
      collectors: { disableDefaults: true, enable: ["cpu", "time"] },
    }),
    ctx,
  );
  await role.start();
  try {
    const [source] = ctx.routes.metricsSources;
    const families = await source!.collect(new Set());
    const success = families.find((f) => f.name === "node_scrape_collector_success")!;
    assert.deepEqual(
      success.samples.map((s) => [s.labels.collector, s.value]),
      [
        ["cpu", 0],
        ["time", 1],
      ],
    );
    assert.ok(families.some((f) => f.name === "node_time_seconds"));
    await source!.collect(new Set());
    const failures = ctx.logLines().filter((l) => l.msg === "node collector failed");
    assert.equal(failures.length, 1, "a failure is logged once, not at every scrape");
    assert.match(String(failures[0]!.error), /ENOENT/);
    const figures = await ctx.routes.panels[0]!.figures();
    assert.deepEqual(
      figures.find((f) => f.label === "failed"),
      { label: "failed", value: "cpu", warn: true },
    );
  } finally {
    await role.stop(AbortSignal.timeout(2000));
  }
});

test("node.logs next to a logs section is refused: one process runs one logs pipeline", () => {
  const section = { sinks: [{ type: "stdout" }] };
  const ctx = testRoleContext();
  ctx.config = { ...ctx.config, logs: { sources: [], sinks: [] } } as typeof ctx.config;
  assert.throws(() => createNodeRole(nodeConfigSchema.parse({ logs: section }), ctx), {
    code: "SIDECAR_ERR_CONFIG_INVALID",
  });
});

test("node_exporter's flags map onto the node section", () => {
  assert.deepEqual(
    nodeOverlay({
      "path.procfs": "/host/proc",
      "path.rootfs": "/host/root",
      "collector.filesystem.mountPointsExclude": "^/x",
      "collector.textfile.directory": "/var/lib/prom",
      "collector.cpu": true,
      "collector.pressure": false,
      "collector.disableDefaults": true,
    }),
    {
      node: {
        procfs: "/host/proc",
        rootfs: "/host/root",
        filesystem: { mountPointsExclude: "^/x" },
        textfile: { directory: "/var/lib/prom" },
        collectors: { disableDefaults: true, enable: ["cpu"], disable: ["pressure"] },
      },
    },
  );
  assert.deepEqual(nodeOverlay({}), { node: {} });
  assert.equal(nodeConfigSchema.safeParse({ filesystem: { fsTypesExclude: "(" } }).success, false);
  assert.equal(nodeConfigSchema.safeParse({ collectors: { enable: ["nope"] } }).success, false);
});

const criLine = (text: string, tag = "F") =>
  `2026-11-27T10:00:00.000000001Z stdout ${tag} ${text}\n`;

test("node logs: every pod's CRI lines with namespace, pod, pod_uid, container and node, across rotation", async () => {
  const root = await mkdtemp(join(tmpdir(), "sidecar-node-logs-"));
  const pods = join(root, "pods");
  const out = join(root, "out.jsonl");
  const previousNode = process.env.NODE_NAME;
  process.env.NODE_NAME = "node-a";
  const podCount = 200;
  const dirOf = (i: number) => join(pods, `ns${i % 7}_web-${i}_uid-${i}`, "app");
  for (let i = 0; i < podCount; i++) {
    await mkdir(dirOf(i), { recursive: true });
    await writeFile(join(dirOf(i), "0.log"), criLine(`hello ${i} `, "P") + criLine("world"));
  }
  const ctx = testRoleContext();
  const role = createNodeRole(
    nodeConfigSchema.parse({
      collectors: { disableDefaults: true },
      logs: {
        stateDir: join(root, "state"),
        sources: [
          {
            type: "file",
            include: [join(pods, "*/*/*.log")],
            parser: { type: "cri" },
            globIntervalSeconds: 0.1,
            rotateWaitSeconds: 0.5,
          },
        ],
        sinks: [{ type: "file", path: out }],
      },
    }),
    ctx,
  );
  const events = async () =>
    (await readFile(out, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  await role.start();
  try {
    await until(
      async () => (await events()).length >= podCount,
      `${podCount} joined lines`,
      20_000,
    );
    // kubelet's rotation: 0.log renamed with a timestamp, a new 0.log; a pod that appears later.
    for (const i of [0, 1, 2]) {
      await appendFile(join(dirOf(i), "0.log"), criLine(`before rotation ${i}`));
      await rename(join(dirOf(i), "0.log"), join(dirOf(i), "0.log.20261127-100000"));
      await writeFile(join(dirOf(i), "0.log"), criLine(`after rotation ${i}`));
    }
    await mkdir(dirOf(podCount), { recursive: true });
    await writeFile(join(dirOf(podCount), "0.log"), criLine("late pod"));
    await until(
      async () => (await events()).length >= podCount + 7,
      "rotated and late lines",
      20_000,
    );
  } finally {
    await role.stop(AbortSignal.timeout(5000));
    if (previousNode === undefined) delete process.env.NODE_NAME;
    else process.env.NODE_NAME = previousNode;
  }
  try {
    const all = await events();
    const byMessage = new Map(all.map((e) => [e.message, e]));
    assert.equal(byMessage.size, all.length, "no line twice");
    const first = byMessage.get("hello 5 world") as { fields?: Record<string, unknown> } & Record<
      string,
      unknown
    >;
    const fields = (first.fields ?? first) as Record<string, unknown>;
    assert.equal(fields.namespace, "ns5");
    assert.equal(fields.pod, "web-5");
    assert.equal(fields.pod_uid, "uid-5");
    assert.equal(fields.container, "app");
    assert.equal(fields.node, "node-a");
    for (const i of [0, 1, 2]) {
      assert.ok(byMessage.has(`before rotation ${i}`));
      assert.ok(byMessage.has(`after rotation ${i}`));
    }
    assert.ok(byMessage.has("late pod"));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
