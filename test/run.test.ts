import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "./helpers/sidecar-process.ts";

const testApp = new URL("./fixtures/test-app.mjs", import.meta.url).pathname;
const node = process.execPath;

interface Setup {
  dir: string;
  adminPort: number;
  appPort: number;
  events: string;
  config: string;
}

async function setup(appSection: string, extra = "", gracePeriodSeconds = 15): Promise<Setup> {
  const { path: dir } = await tempDir();
  const adminPort = await freePort();
  const appPort = await freePort();
  const config = await writeConfig(
    dir,
    `admin:\n  address: 127.0.0.1:${adminPort}\nshutdown:\n  gracePeriodSeconds: ${gracePeriodSeconds}\napp:${appSection === "" ? " {}" : ""}\n${appSection.replaceAll("APP_PORT", String(appPort))}\n${extra}`,
  );
  return { dir, adminPort, appPort, events: join(dir, "events"), config };
}

const probe = `  health:\n    type: http\n    port: APP_PORT\n    path: /healthz\n    intervalSeconds: 0.1\n    timeoutSeconds: 1\n    failureThreshold: 2\n`;

async function events(file: string): Promise<string[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
}

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await read();
      if (ok(value)) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? error.message : error; // not up yet: try again
    }
    if (Date.now() > end)
      throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/** `sidecar run` with an app that ignores SIGTERM; resolves once the app is running. */
async function startAppIgnoringSigterm(s: Setup) {
  const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
    env: { IGNORE_SIGTERM: "1", EVENTS_FILE: s.events },
  });
  await proc.waitFor('"msg":"sidecar ready to serve"');
  await until(
    "the app to start",
    () => events(s.events),
    (e) => e.includes("start"),
  );
  return proc;
}

describe("sidecar run", () => {
  test("is not ready until the app passes its probe, then ready; SIGTERM reaches the app and its code is the exit code", async () => {
    const s = await setup(`${probe}  startTimeoutSeconds: 20\n`);
    const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
      env: {
        PORT: String(s.appPort),
        READY_DELAY_MS: "1500",
        EVENTS_FILE: s.events,
        EXIT_CODE: "0",
      },
    });
    try {
      await proc.waitFor('"msg":"admin server listening"');
      const early = await httpGet(`http://127.0.0.1:${s.adminPort}/readyz`);
      assert.equal(early.status, 503);
      const body = JSON.parse(early.body) as {
        ready: boolean;
        notReady: { name: string; reason: string }[];
      };
      assert.equal(body.ready, false);
      assert.ok(
        body.notReady.some((r) => r.name === "app"),
        early.body,
      );

      await until(
        "readyz 200",
        () => httpGet(`http://127.0.0.1:${s.adminPort}/readyz`),
        (r) => r.status === 200,
      );
      assert.ok(
        (await events(s.events)).includes(`admin-url http://127.0.0.1:${s.adminPort}`),
        "SIDECAR_ADMIN_URL is given to the app",
      );
      const status = JSON.parse(
        (await httpGet(`http://127.0.0.1:${s.adminPort}/status`)).body,
      ) as Record<string, unknown>;
      assert.equal(status.ready, true);
      assert.match(String((status.config as { hash: string }).hash), /^[0-9a-f]{12}$/);
    } finally {
      await proc.stop("SIGTERM");
    }
    assert.equal(await proc.exited, 0, proc.stdout() + proc.stderr());
    assert.ok((await events(s.events)).includes("sigterm"), "the app got SIGTERM");
  });

  test("SIGTERM while the app is still starting stops at once, without waiting for the start timeout", async () => {
    const s = await setup(`${probe}  startTimeoutSeconds: 120\n`);
    const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
      env: { EVENTS_FILE: s.events, EXIT_CODE: "0" },
    });
    await until(
      "the app to start",
      () => events(s.events),
      (e) => e.includes("start"),
    );
    const started = Date.now();
    assert.equal(await proc.stop("SIGTERM"), 0, proc.stdout() + proc.stderr());
    assert.ok(Date.now() - started < 60_000, "did not wait for the start timeout");
    assert.ok((await events(s.events)).includes("sigterm"));
    assert.doesNotMatch(proc.stdout(), /sidecar ready to serve/);
  });

  test("exits with the app's own exit code when the app ends by itself", async () => {
    const s = await setup("  restart: never\n");
    const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
      env: { EXIT_AFTER_MS: "300", EXIT_CODE: "3" },
    });
    assert.equal(await proc.exited, 3, proc.stdout() + proc.stderr());
  });

  test("exits with 128+signal when the app is killed by a signal", async () => {
    const s = await setup("  restart: never\n");
    const proc = startSidecar(["run", "-c", s.config, "--", "sh", "-c", "kill -USR1 $$"]);
    assert.equal(await proc.exited, 128 + 10, proc.stdout() + proc.stderr());
  });

  test("escalates to SIGKILL when the app ignores SIGTERM past stopTimeoutSeconds", async () => {
    const s = await setup("  stopTimeoutSeconds: 0.5\n");
    const proc = await startAppIgnoringSigterm(s);
    const code = await proc.stop("SIGTERM");
    assert.equal(code, 137, proc.stdout());
    assert.ok((await events(s.events)).includes("sigterm"));
    assert.match(proc.stdout(), /did not stop in time; sending SIGKILL/);
  });

  test("a shutdown past gracePeriodSeconds logs SIDECAR_ERR_SHUTDOWN_TIMEOUT and kills the app", async () => {
    const s = await setup("  stopTimeoutSeconds: 30\n", "", 1);
    const proc = await startAppIgnoringSigterm(s);
    const code = await proc.stop("SIGTERM");
    assert.equal(code, 137, proc.stdout());
    assert.match(proc.stdout(), /"code":"SIDECAR_ERR_SHUTDOWN_TIMEOUT"/);
    assert.match(proc.stdout(), /did not finish within shutdown.gracePeriodSeconds/);
  });

  test("restart: on-failure restarts a failing app with backoff and counts the restarts", async () => {
    const s = await setup(
      `${probe}  restart: on-failure\n  restartBackoff:\n    initialSeconds: 0.05\n    maxSeconds: 0.2\n`,
    );
    const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
      env: { PORT: String(s.appPort), EVENTS_FILE: s.events, FAIL_RUNS: "2" },
    });
    try {
      await until(
        "readyz 200",
        () => httpGet(`http://127.0.0.1:${s.adminPort}/readyz`),
        (r) => r.status === 200,
      );
      const metrics = (await httpGet(`http://127.0.0.1:${s.adminPort}/metrics`)).body;
      assert.match(metrics, /^sidecar_app_restarts_total 2$/m);
      assert.equal((await events(s.events)).filter((e) => e === "start").length, 3);
    } finally {
      await proc.stop();
    }
    assert.equal(await proc.exited, 0, proc.stdout());
  });

  test("restart: always restarts an app that exits 0; never does not", async () => {
    const always = await setup(
      "  restart: always\n  restartBackoff:\n    initialSeconds: 0.05\n    maxSeconds: 0.05\n",
    );
    const proc = startSidecar(["run", "-c", always.config, "--", node, testApp], {
      env: { EVENTS_FILE: always.events, EXIT_AFTER_MS: "100", EXIT_CODE: "0" },
    });
    try {
      await until(
        "three runs",
        () => events(always.events),
        (e) => e.filter((l) => l === "start").length >= 3,
      );
    } finally {
      await proc.stop();
    }
    const never = await setup("  restart: never\n");
    const once = startSidecar(["run", "-c", never.config, "--", node, testApp], {
      env: { EVENTS_FILE: never.events, EXIT_AFTER_MS: "100", EXIT_CODE: "1" },
    });
    assert.equal(await once.exited, 1);
    assert.equal((await events(never.events)).filter((l) => l === "start").length, 1);
  });

  test("POST /quitquitquit from loopback stops the app and the sidecar; GET gets 405", async () => {
    const s = await setup("");
    const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
      env: { EVENTS_FILE: s.events, EXIT_CODE: "0" },
    });
    try {
      await proc.waitFor('"msg":"sidecar ready to serve"');
      await until(
        "the app to start",
        () => events(s.events),
        (e) => e.includes("start"),
      );
      const get = await httpGet(`http://127.0.0.1:${s.adminPort}/quitquitquit`);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get("allow"), "POST");
      const post = await httpGet(`http://127.0.0.1:${s.adminPort}/quitquitquit`, {
        method: "POST",
      });
      assert.equal(post.status, 202);
      assert.equal(await proc.exited, 0);
      assert.ok((await events(s.events)).includes("sigterm"));
    } finally {
      await proc.stop();
    }
  });

  test("an app command that does not exist exits 127 with a clear message and no stack trace", async () => {
    const s = await setup("");
    const proc = startSidecar(["run", "-c", s.config, "--", "no-such-command-xyz"]);
    assert.equal(await proc.exited, 127);
    assert.match(proc.stderr(), /App command "no-such-command-xyz" not found/);
    assert.doesNotMatch(proc.stderr(), /\n\s+at /);
  });

  test("an app that never becomes ready fails with the probe's last error", async () => {
    const s = await setup(`${probe}  startTimeoutSeconds: 1\n  stopTimeoutSeconds: 1\n`);
    const proc = startSidecar(["run", "-c", s.config, "--", node, testApp], {
      env: { EVENTS_FILE: s.events },
    });
    assert.equal(await proc.exited, 1, proc.stdout() + proc.stderr());
    assert.match(proc.stderr(), /did not become ready within 1s.*ECONNREFUSED/);
    assert.ok((await events(s.events)).includes("sigterm"), "the app was stopped");
    assert.doesNotMatch(proc.stderr(), /\n\s+at /);
  });

  describe("with the admin port taken", () => {
    const blocker = createServer();
    let port = 0;
    before(async () => {
      port = await freePort();
      await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    });
    after(() => blocker.close());

    test("names the port and who wanted it", async () => {
      const { path: dir } = await tempDir();
      const config = await writeConfig(dir, `admin:\n  address: 127.0.0.1:${port}\n`);
      const proc = startSidecar(["run", "-c", config, "--", node, testApp]);
      assert.equal(await proc.exited, 1);
      assert.match(
        proc.stderr(),
        new RegExp(
          `Admin server cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is already in use`,
        ),
      );
    });
  });

  test("a second SIGTERM forces the exit while the app is still stopping", async () => {
    const s = await setup("  stopTimeoutSeconds: 30\n");
    const proc = await startAppIgnoringSigterm(s);
    proc.child.kill("SIGTERM");
    await until(
      "the app to get SIGTERM",
      () => events(s.events),
      (e) => e.includes("sigterm"),
    );
    proc.child.kill("SIGTERM");
    assert.equal(await proc.exited, 143);
    assert.match(proc.stdout(), /second signal received; forcing exit now/);
  });
});
