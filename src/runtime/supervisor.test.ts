import assert from "node:assert/strict";
import { test } from "node:test";
import type { Role } from "./role.ts";
import { Supervisor } from "./supervisor.ts";
import { captureLogger } from "./testing.ts";

function recordingRole(
  name: string,
  journal: string[],
  { failStart = false, ready = true } = {},
): Role {
  return {
    name,
    async start() {
      journal.push(`start ${name}`);
      if (failStart) throw new Error(`${name} cannot start`);
    },
    ready: () => ready,
    notReadyReason: () => `${name} is warming up`,
    async stop() {
      journal.push(`stop ${name}`);
    },
  };
}

test("starts roles in order and stops them in reverse", async () => {
  const journal: string[] = [];
  const supervisor = new Supervisor(
    ["a", "b", "c"].map((n) => recordingRole(n, journal)),
    captureLogger(),
  );
  await supervisor.start();
  await supervisor.stop(AbortSignal.timeout(1000));
  assert.deepEqual(journal, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
});

test("when a role fails to start, stops those already started and rethrows with a code", async () => {
  const journal: string[] = [];
  const roles = [
    recordingRole("a", journal),
    recordingRole("b", journal, { failStart: true }),
    recordingRole("c", journal),
  ];
  const supervisor = new Supervisor(roles, captureLogger());
  await assert.rejects(supervisor.start(), {
    code: "SIDECAR_ERR_ROLE_START",
    message: /Role "b" failed to start: b cannot start/,
  });
  assert.deepEqual(journal, ["start a", "start b", "stop a"]);
});

test("is ready only when every role is running and ready, and never while draining", async () => {
  const journal: string[] = [];
  const supervisor = new Supervisor(
    [recordingRole("a", journal), recordingRole("b", journal, { ready: false })],
    captureLogger(),
  );
  assert.equal(supervisor.readiness().ready, false);
  await supervisor.start();
  const readiness = supervisor.readiness();
  assert.equal(readiness.ready, false);
  assert.deepEqual(
    readiness.roles.filter((r) => !r.ready).map((r) => [r.name, r.reason]),
    [["b", "b is warming up"]],
  );
  const allReady = new Supervisor([recordingRole("c", journal)], captureLogger());
  await allReady.start();
  assert.equal(allReady.readiness().ready, true);
  allReady.drain();
  assert.deepEqual([allReady.readiness().ready, allReady.readiness().draining], [false, true]);
});

test("a role still starting gives its reason when it has one", async () => {
  let release: (() => void) | undefined;
  const waiting: Role = {
    name: "config",
    start: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    ready: () => false,
    notReadyReason: () => 'waiting for config source "cm"',
    stop: async () => {},
  };
  const supervisor = new Supervisor([waiting], captureLogger());
  const started = supervisor.start();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(supervisor.readiness().roles[0]!.reason, 'starting: waiting for config source "cm"');
  release!();
  await started;
});

test("stop is idempotent and a role that throws while stopping does not keep the others running", async () => {
  const journal: string[] = [];
  const broken: Role = {
    ...recordingRole("broken", journal),
    stop: async () => Promise.reject(new Error("boom")),
  };
  const supervisor = new Supervisor([recordingRole("a", journal), broken], captureLogger());
  await supervisor.start();
  await Promise.all([
    supervisor.stop(AbortSignal.timeout(1000)),
    supervisor.stop(AbortSignal.timeout(1000)),
  ]);
  assert.deepEqual(journal, ["start a", "start broken", "stop a"]);
  assert.equal(supervisor.readiness().roles.find((r) => r.name === "broken")?.state, "failed");
});

test("refuses two roles of the same name", () => {
  const journal: string[] = [];
  assert.throws(
    () =>
      new Supervisor([recordingRole("a", journal), recordingRole("a", journal)], captureLogger()),
    TypeError,
  );
});

test("a role that ignores its deadline is logged with SIDECAR_ERR_SHUTDOWN_TIMEOUT by name, and the others still stop", async () => {
  const journal: string[] = [];
  const stuck: Role = {
    name: "stuck",
    async start() {},
    ready: () => true,
    stop: () => new Promise<void>(() => {}), // never settles, whatever the deadline says
  };
  const { logger, lines } = captureLogger();
  const supervisor = new Supervisor(
    [recordingRole("a", journal), stuck, recordingRole("c", journal)],
    {
      logger,
      abortGraceMs: 50,
    },
  );
  await supervisor.start();
  await supervisor.stop(AbortSignal.timeout(100));
  assert.deepEqual(journal, ["start a", "start c", "stop c", "stop a"]);
  const overrun = lines().find((line) => line.code === "SIDECAR_ERR_SHUTDOWN_TIMEOUT");
  assert.equal(overrun?.role, "stuck");
  assert.deepEqual(
    supervisor.readiness().roles.map((r) => [r.name, r.state]),
    [
      ["a", "stopped"],
      ["stuck", "failed"],
      ["c", "stopped"],
    ],
  );
});

test("a role that finishes letting go just after the deadline counts as stopped", async () => {
  const late: Role = {
    name: "late",
    async start() {},
    ready: () => true,
    stop: (deadline) =>
      new Promise<void>((resolve) =>
        deadline.addEventListener("abort", () => setTimeout(resolve, 10), { once: true }),
      ),
  };
  const supervisor = new Supervisor([late], { ...captureLogger(), abortGraceMs: 1000 });
  await supervisor.start();
  await supervisor.stop(AbortSignal.timeout(20));
  assert.equal(supervisor.readiness().roles[0]!.state, "stopped");
});

test("a ready role's degraded reason is reported without failing readiness", async () => {
  const role: Role = {
    name: "config",
    async start() {},
    ready: () => true,
    degradedReason: () => "the newest version failed",
    async stop() {},
  };
  const supervisor = new Supervisor([role], captureLogger());
  await supervisor.start();
  const readiness = supervisor.readiness();
  assert.equal(readiness.ready, true);
  assert.deepEqual(readiness.roles[0], {
    name: "config",
    state: "running",
    ready: true,
    reason: "the newest version failed",
  });
});
