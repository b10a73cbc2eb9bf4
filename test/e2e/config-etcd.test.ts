import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Etcd3 } from "etcd3";
import { EtcdSource, etcdSourceSchema } from "../../src/config-sync/sources/etcd/index.ts";
import type { SourceSnapshot } from "../../src/config-sync/sources/index.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { captureLogger, freePort, until } from "../../src/runtime/testing.ts";
import { type EtcdServer, startEtcd } from "../helpers/etcd-server.ts";
import { runSidecar, tempDir, writeConfig } from "../helpers/sidecar-process.ts";

let etcd: EtcdServer;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.close();
});

function watch(prefix: string) {
  const { logger, lines } = captureLogger();
  const source = new EtcdSource(
    etcdSourceSchema.parse({ name: "kv", type: "etcd", endpoints: [etcd.endpoint], prefix }),
    { logger, clock: systemClock },
  );
  const snapshots: SourceSnapshot[] = [];
  source.start({ onSnapshot: (s) => snapshots.push(s), onError: () => {} });
  const values = () =>
    Object.fromEntries([...(source.snapshot?.entries ?? [])].map(([k, v]) => [k, v.toString()]));
  return { source, snapshots, values, logs: lines };
}

test("etcd: reads a prefix, then every put and delete; a transaction is one snapshot", async () => {
  await etcd.client.put("/t1/a").value("1");
  await etcd.client.put("/t1/db/host").value("h");
  await etcd.client.put("/t1-not-below").value("x");
  const { source, snapshots, values } = watch("/t1/");
  try {
    await until(() => snapshots.length === 1, "the first read");
    assert.deepEqual(values(), { a: "1", "db/host": "h" });
    await etcd.client.put("/t1/b").value("2");
    await until(() => values().b === "2", "the put");
    await etcd.client.delete().key("/t1/a");
    await until(() => !("a" in values()), "the delete");
    const before = snapshots.length;
    await etcd.client
      .if("/t1/x", "Version", "==", 0)
      .then(etcd.client.put("/t1/x").value("1"), etcd.client.put("/t1/y").value("1"))
      .commit();
    await until(() => values().y === "1", "the transaction");
    assert.equal(snapshots.length, before + 1, "one revision, one snapshot");
    assert.match(source.status.version!, /^revision \d+$/);
  } finally {
    await source.close();
  }
});

test("etcd: restarted mid-watch, the watch resumes from its revision and misses nothing", async () => {
  await etcd.client.put("/t2/a").value("1");
  const { source, values, logs } = watch("/t2/");
  try {
    await until(() => values().a === "1", "the first read");
    await etcd.stop();
    await until(() => !source.status.up, "the source to see the outage");
    await etcd.start();
    await etcd.client.put("/t2/a").value("2");
    await until(() => values().a === "2", "the change after the restart", 30_000);
    assert.equal(source.status.up, true);
    assert.ok(
      !logs().some((l) => String(l.msg).includes("reading everything again")),
      "no re-read was needed",
    );
  } finally {
    await source.close();
  }
});

test("etcd: when the revision to resume from was compacted meanwhile, the source reads everything again", async () => {
  await etcd.client.put("/t3/a").value("1");
  await etcd.client.put("/t3/gone").value("1");
  const { source, values, logs } = watch("/t3/");
  const port = new URL(etcd.endpoint).port;
  try {
    await until(() => values().a === "1", "the first read");
    await etcd.stop();
    // Changes and a compaction while the source cannot reach etcd: etcd answers elsewhere meanwhile.
    await etcd.start(await freePort());
    await etcd.client.put("/t3/a").value("2");
    await etcd.client.delete().key("/t3/gone");
    for (let i = 0; i < 5; i++) await etcd.client.put("/other").value(String(i));
    const { header } = await etcd.client.getAll().prefix("/other").exec();
    await etcd.client.kv.compact({ revision: header.revision, physical: true });
    await etcd.stop();
    await etcd.start(Number(port));
    await until(() => values().a === "2" && !("gone" in values()), "the re-read", 30_000);
    assert.ok(
      logs().some((l) => String(l.msg).includes("compacted")),
      JSON.stringify(logs()),
    );
    await etcd.client.put("/t3/a").value("3");
    await until(() => values().a === "3", "the watch after the re-read");
  } finally {
    await source.close();
  }
});

test("sidecar config --once with an etcd source publishes its keys as files and exits 0", async () => {
  await etcd.client.put("/t4/app.json").value('{"level":"info"}');
  await etcd.client.put("/t4/feature").value("on");
  const dir = await tempDir();
  try {
    const config = await writeConfig(
      dir.path,
      `admin: { address: "127.0.0.1:0" }
config:
  outputDir: ${join(dir.path, "out")}
  sources: [{ name: kv, type: etcd, endpoints: ["${etcd.endpoint}"], prefix: /t4/ }]
  outputs:
    - { path: app.json, template: '{"level": "{{app.level}}", "feature": "{{feature}}"}' }
`,
    );
    const result = await runSidecar(["config", "--once", "-c", config]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(await readFile(join(dir.path, "out", "app.json"), "utf8")), {
      level: "info",
      feature: "on",
    });
  } finally {
    await dir.cleanup();
  }
});

test("etcd with authentication: the source logs in with auth.username/password", async () => {
  await etcd.client.put("/t5/level").value("warn");
  const root = await etcd.client.role("root").create();
  await etcd.client.user("root").create("root-pw");
  await etcd.client.user("root").addRole(root);
  await etcd.client.auth.authEnable({});
  const admin = new Etcd3({
    hosts: etcd.endpoint,
    auth: { username: "root", password: "root-pw" },
  });
  try {
    const { logger } = captureLogger();
    const denied = new EtcdSource(
      etcdSourceSchema.parse({
        name: "kv",
        type: "etcd",
        endpoints: [etcd.endpoint],
        prefix: "/t5/",
      }),
      { logger, clock: systemClock },
    );
    const allowed = new EtcdSource(
      etcdSourceSchema.parse({
        name: "kv",
        type: "etcd",
        endpoints: [etcd.endpoint],
        prefix: "/t5/",
        auth: { username: "root", password: "root-pw" },
      }),
      { logger, clock: systemClock },
    );
    try {
      denied.start({ onSnapshot: () => {}, onError: () => {} });
      allowed.start({ onSnapshot: () => {}, onError: () => {} });
      await until(() => allowed.snapshot !== undefined, "the authenticated read");
      assert.equal(allowed.snapshot!.entries.get("level")!.toString(), "warn");
      await until(() => denied.status.lastError !== undefined, "the refused read");
      assert.equal(denied.snapshot, undefined);
      assert.ok(!JSON.stringify(allowed.status).includes("root-pw"));
    } finally {
      await denied.close();
      await allowed.close();
    }
  } finally {
    await admin.auth.authDisable({});
    admin.close();
  }
});
