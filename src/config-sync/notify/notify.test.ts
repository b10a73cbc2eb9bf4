import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, copyFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { systemClock } from "../../runtime/clock.ts";
import { freePort } from "../../runtime/testing.ts";
import { findProcesses } from "./find-processes.ts";
import { HttpNotifyTarget } from "./http-notify.ts";
import { Notifier } from "./notifier.ts";
import { notifyConfigSchema } from "./notify-config.ts";
import type { NotifyTarget, NotifyVersion } from "./notify-target.ts";
import { SignalNotifyTarget } from "./signal-notify.ts";

const version: NotifyVersion = { hash: "abc", dir: "/tmp" };

test("http: retries with backoff until the app listens and answers 2xx, with the version header", async () => {
  const port = await freePort();
  const seen: { method: string; version: string | undefined }[] = [];
  let answers = [503, 503, 200];
  let server: Server | undefined;
  const target = new HttpNotifyTarget(
    notifyConfigSchema.parse({
      type: "http",
      url: `http://127.0.0.1:${port}/-/reload`,
      retry: { initialSeconds: 0.02, maxSeconds: 0.1 },
    }) as never,
    systemClock,
  );
  try {
    const sent = target.send(version, new AbortController().signal);
    // The app starts listening only after the first attempts were refused.
    await new Promise((resolve) => setTimeout(resolve, 100));
    server = createServer((req, res) => {
      seen.push({ method: req.method!, version: req.headers["sidecar-config-version"] as string });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
    server.listen(port, "127.0.0.1");
    await sent;
    assert.deepEqual(seen, [
      { method: "POST", version: "abc" },
      { method: "POST", version: "abc" },
      { method: "POST", version: "abc" },
    ]);
    answers = [500];
  } finally {
    target.close();
    server?.close();
    server?.closeAllConnections();
  }
});

test("http: gives up after giveUpAfterSeconds with the last problem in the error", async () => {
  const port = await freePort();
  const target = new HttpNotifyTarget(
    notifyConfigSchema.parse({
      type: "http",
      url: `http://user:pw@127.0.0.1:${port}/reload`,
      retry: { initialSeconds: 0.01, maxSeconds: 0.02, giveUpAfterSeconds: 0.1 },
    }) as never,
    systemClock,
  );
  await assert.rejects(target.send(version, new AbortController().signal), (error: Error) => {
    assert.match(error.message, /gave up after \d+ attempts/);
    assert.ok(!error.message.includes("pw"), "no credentials in messages");
    return true;
  });
});

test("notifier: one run at a time, and a burst while running is sent once, newest version", async () => {
  const sent: string[] = [];
  let release: (() => void) | undefined;
  const slow: NotifyTarget = {
    kind: "command",
    describe: "slow",
    send: async (v) => {
      sent.push(v.hash);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  };
  const results: string[] = [];
  const notifier = new Notifier([slow], { onResult: (_t, result) => results.push(result) });
  notifier.notify({ hash: "v1", dir: "" });
  for (const hash of ["v2", "v3", "v4"]) notifier.notify({ hash, dir: "" });
  assert.deepEqual(sent, ["v1"]);
  release!();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sent, ["v1", "v4"]);
  release!();
  await notifier.idle();
  assert.deepEqual(results, ["ok", "ok"]);
});

test("notifier: a newer version cuts short the retries of the running one", async () => {
  const sent: string[] = [];
  const retrying: NotifyTarget = {
    kind: "http",
    describe: "retrying",
    send: async (v, superseded) => {
      sent.push(v.hash);
      if (v.hash === "old") await systemClock.sleep(60_000, superseded);
    },
  };
  const results: string[] = [];
  const notifier = new Notifier([retrying], { onResult: (_t, result) => results.push(result) });
  notifier.notify({ hash: "old", dir: "" });
  notifier.notify({ hash: "new", dir: "" });
  await notifier.idle();
  assert.deepEqual(sent, ["old", "new"]);
  assert.deepEqual(results, ["superseded", "ok"]);
});

test("signal: finds a process by name in /proc, waiting for it to start, and signals it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "signal-notify-"));
  // A process with a name of its own: a copy of sleep.
  const name = `cfgsleep${process.pid % 10000}`;
  await copyFile("/bin/sleep", join(dir, name));
  await chmod(join(dir, name), 0o755);
  const target = (giveUpAfterSeconds: number) =>
    new SignalNotifyTarget(
      notifyConfigSchema.parse({ type: "signal", processName: name, giveUpAfterSeconds }) as never,
      { app: undefined, clock: systemClock },
    );
  const never = new AbortController().signal;
  let child: ChildProcess | undefined;
  try {
    // Notified before the process runs (the app is starting): retried until it does.
    const sent = target(20).send(version, never);
    await new Promise((resolve) => setTimeout(resolve, 150));
    child = spawn(join(dir, name), ["30"], { stdio: "ignore" });
    const exited = once(child, "exit");
    await sent;
    const [, signal] = await exited;
    assert.equal(signal, "SIGHUP");
    assert.deepEqual(await findProcesses(name), []);
    await assert.rejects(target(0.2).send(version, never), /no process named/);
  } finally {
    child?.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
