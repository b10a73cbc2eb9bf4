/**
 * The syslog sink against a real syslog receiver: syslog-ng (Debian package `syslog-ng-core`)
 * with a config of this test's own (network sources on free loopback ports, a file destination
 * in a temp dir). Run with `npm run test:e2e`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { LogEvent } from "../../src/logs/log-event.ts";
import { createSyslogSink, syslogSinkSchema } from "../../src/logs/sinks/syslog/index.ts";
import { testContext } from "../../src/logs/sinks/testing/test-context.ts";
import { startSidecar } from "../helpers/sidecar-process.ts";

function findSyslogNg(): string {
  // SYSLOG_NG names another binary (and lets the missing-binary message be checked by hand).
  const candidates = process.env.SYSLOG_NG
    ? [process.env.SYSLOG_NG]
    : ["syslog-ng", "/usr/sbin/syslog-ng", "/sbin/syslog-ng"];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    "syslog-ng is not installed: this end-to-end test needs it as a real syslog receiver. " +
      "Install the Debian package syslog-ng-core: sudo apt-get install -y syslog-ng-core",
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null)
      throw new Error(`syslog-ng exited (${child.exitCode}): ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`syslog-ng did not listen on 127.0.0.1:${port}: ${stderr()}`);
}

async function readRecords(path: string, count: number): Promise<Record<string, string>[]> {
  let records: Record<string, string>[] = [];
  for (let i = 0; i < 200; i++) {
    const text = await readFile(path, "utf8").catch(() => "");
    // Only complete lines: syslog-ng may be in the middle of writing the last one.
    records = text
      .slice(0, text.lastIndexOf("\n") + 1)
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>);
    if (records.length >= count) return records;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return records;
}

let dir = "";
let child: ChildProcess | undefined;
let tcpPort = 0;
let udpPort = 0;
let output = "";

before(async () => {
  const binary = findSyslogNg();
  dir = await mkdtemp(join(tmpdir(), "sidecar-syslog-ng-"));
  tcpPort = await freePort();
  udpPort = await freePort();
  output = join(dir, "received.jsonl");
  const template =
    '"$(format-json --pair host=$HOST --pair app=$PROGRAM --pair procid=$PID --pair msgid=$MSGID ' +
    "--pair severity=$LEVEL --pair facility=$FACILITY --pair date=$ISODATE --pair message=$MESSAGE " +
    '--key .SDATA.*)\\n"';
  const config = `@version: 3.35
options { keep-hostname(yes); keep-timestamp(yes); create-dirs(yes); flush-lines(0); };
source s_tcp { syslog(ip("127.0.0.1") port(${tcpPort}) transport("tcp") max-connections(10)); };
source s_udp { syslog(ip("127.0.0.1") port(${udpPort}) transport("udp")); };
destination d_file { file("${output}" template(${template})); };
log { source(s_tcp); source(s_udp); destination(d_file); };
`;
  const conf = join(dir, "syslog-ng.conf");
  await writeFile(conf, config);
  let stderr = "";
  child = spawn(
    binary,
    [
      "--foreground",
      "--no-caps",
      "-f",
      conf,
      "-R",
      join(dir, "syslog-ng.persist"),
      "-p",
      join(dir, "syslog-ng.pid"),
      "-c",
      join(dir, "syslog-ng.ctl"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => {
    stderr += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  await waitForPort(tcpPort, child, () => stderr);
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

const events = (prefix: string, count: number): LogEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    message:
      i === 0
        ? `${prefix} first line\nsecond line with ünïcödé and "quotes"`
        : `${prefix} message ${i}`,
    timestamp: Date.UTC(2024, 0, 1, 12, 0, 0, i),
    level: i % 3 === 0 ? "error" : i % 3 === 1 ? "warn" : "info",
    fields: { pod: "web-1", attempt: i },
    source: "/var/log/app.log",
    position: { streamId: "fp", offset: i + 1 },
  }));

test("RFC 5424 over TCP with octet counting arrives intact in syslog-ng, multi-line messages too", async () => {
  const ctx = await testContext();
  const sink = createSyslogSink(
    syslogSinkSchema.parse({
      type: "syslog",
      host: "127.0.0.1",
      port: tcpPort,
      hostname: "web-1.shop",
      appName: "checkout",
      procId: "42",
      msgId: "HTTP",
      facility: "local3",
      structuredDataId: "fields@32473",
      batch: { maxEvents: 50 },
    }),
    ctx,
  );
  const sent = events("tcp", 120);
  await sink.write(sent);
  assert.equal(await sink.close(AbortSignal.timeout(5000)), 0);
  const records = (await readRecords(output, 120)).filter((r) => r.message?.startsWith("tcp"));
  assert.equal(records.length, 120, "every event arrived");
  assert.deepEqual(
    records.map((r) => r.message),
    sent.map((e) => e.message),
  );
  const first = records[0]!;
  assert.equal(first.host, "web-1.shop");
  assert.equal(first.app, "checkout");
  assert.equal(first.procid, "42");
  assert.equal(first.msgid, "HTTP");
  assert.equal(first.facility, "local3");
  assert.equal(first.severity, "err");
  assert.equal(records[1]!.severity, "warning");
  assert.equal(records[2]!.severity, "info");
  assert.match(first.date!, /^2024-01-01T12:00:00/);
  assert.equal(
    (first as Record<string, unknown>)[".SDATA.fields@32473.pod"] ?? findSd(first, "pod"),
    "web-1",
  );
});

test("RFC 5424 over UDP arrives in syslog-ng", async () => {
  const ctx = await testContext();
  const sink = createSyslogSink(
    syslogSinkSchema.parse({
      type: "syslog",
      protocol: "udp",
      host: "127.0.0.1",
      port: udpPort,
      appName: "udp-app",
    }),
    ctx,
  );
  const sent = events("udp", 20).slice(1);
  await sink.write(sent);
  assert.equal(await sink.close(AbortSignal.timeout(5000)), 0);
  let records: Record<string, string>[] = [];
  for (let i = 0; i < 200 && records.length < sent.length; i++) {
    records = (await readRecords(output, 0)).filter((r) => r.message?.startsWith("udp"));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(records.map((r) => r.message).sort(), sent.map((e) => e.message).sort());
  assert.equal(records[0]!.app, "udp-app");
});

test("`sidecar logs --sink syslog://…` tails a file into syslog-ng: every line arrives once, in order", async () => {
  const appDir = join(dir, "app");
  await mkdir(appDir, { recursive: true });
  const config = join(dir, "sidecar.yaml");
  await writeFile(config, 'admin:\n  address: "127.0.0.1:0"\n');
  const lines = Array.from(
    { length: 300 },
    (_, i) => `cli line ${i} ünïcödé ${"x".repeat(i % 50)}`,
  );
  await writeFile(join(appDir, "app.log"), `${lines.slice(0, 150).join("\n")}\n`);
  const proc = startSidecar([
    "logs",
    "-c",
    config,
    "--path",
    join(appDir, "*.log"),
    "--read-from",
    "head",
    "--state-dir",
    join(dir, "state"),
    "--sink",
    `syslog://127.0.0.1:${tcpPort}`,
  ]);
  try {
    await proc.waitFor(/"role":"logs"[^\n]*"msg":"role started"/);
    await appendFile(join(appDir, "app.log"), `${lines.slice(150).join("\n")}\n`);
    let got: string[] = [];
    for (let i = 0; i < 300 && got.length < lines.length; i++) {
      got = (await readRecords(output, 0))
        .map((r) => r.message!)
        .filter((m) => m.startsWith("cli line"));
      if (got.length < lines.length) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(got, lines, proc.stdout().slice(-4000));
  } finally {
    assert.equal(await proc.stop(), 0, proc.stderr());
  }
});

/** format-json nests `.SDATA.fields@32473.pod` as objects; find the value wherever it sits. */
function findSd(record: Record<string, unknown>, key: string): unknown {
  for (const value of Object.values(record)) {
    if (value && typeof value === "object") {
      if (key in value) return (value as Record<string, unknown>)[key];
      const found = findSd(value as Record<string, unknown>, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
