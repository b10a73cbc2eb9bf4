import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { commandEnvFor } from "../bin/command-env.js";
import { v8FlagsFor } from "../bin/v8-flags.js";
import { runSidecar, startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

const bin = new URL("../bin/sidecar.js", import.meta.url).pathname;

async function commandLine(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
}

// The `sidecar` command re-executes itself with its command's V8 flags: same process, so the
// PID a supervisor knows still gets the signals and reports the exit code.
test("`sidecar proxy` and `sidecar logs` run with their own young-generation size, in the same process", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(dir.path, "admin:\n  address: 127.0.0.1:0\n");
    for (const [args, ready] of [
      [
        ["proxy", "-c", config, "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"],
        "proxy listening",
      ],
      [
        [
          "logs",
          "-c",
          config,
          "--path",
          join(dir.path, "*.log"),
          "--sink",
          "stdout",
          "--state-dir",
          join(dir.path, "state"),
        ],
        "admin server listening",
      ],
    ] as const) {
      const proc = startSidecar(args, { entry: bin });
      try {
        await proc.waitFor(ready, 20_000);
        const argv = await commandLine(proc.child.pid!);
        for (const flag of v8FlagsFor(args[0]))
          assert.ok(argv.includes(flag), `${args[0]}: ${argv.join(" ")}`);
        assert.equal(await proc.stop("SIGTERM"), 0);
      } finally {
        await proc.stop("SIGKILL");
      }
    }
    // Both declare 8 MB today (each measured for its own load); each still gets its own.
    for (const command of ["proxy", "logs"])
      assert.ok(v8FlagsFor(command).some((flag) => flag.startsWith("--max-semi-space-size=")));
  } finally {
    await dir.cleanup();
  }
});

test("a --max-semi-space-size the user sets in NODE_OPTIONS wins", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(dir.path, "admin:\n  address: 127.0.0.1:0\n");
    const proc = startSidecar(
      ["proxy", "-c", config, "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"],
      { entry: bin, env: { NODE_OPTIONS: "--max-semi-space-size=4" } },
    );
    try {
      await proc.waitFor("proxy listening", 20_000);
      const argv = await commandLine(proc.child.pid!);
      assert.ok(!argv.some((arg) => arg.startsWith("--max-semi-space-size")), argv.join(" "));
    } finally {
      await proc.stop("SIGKILL");
    }
  } finally {
    await dir.cleanup();
  }
});

async function environment(pid: number): Promise<Map<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, "utf8");
  return new Map(
    text
      .split("\0")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

// libuv sizes its thread pool at its first use: `sidecar sync` starts with the size its fsyncs
// want (bin/command-env.json), and a size the user chose wins.
test("`sidecar sync` starts with its command's UV_THREADPOOL_SIZE, and the user's own wins", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(
      dir.path,
      `admin:\n  address: 127.0.0.1:0\nsync:\n  dataDir: ${join(dir.path, "data")}\n  target: { type: dir, path: ${join(dir.path, "target")} }\n  stateDir: ${join(dir.path, "state")}\n  restore: { onStart: false }\n`,
    );
    for (const [env, expected] of [
      [{}, commandEnvFor("sync", {}).UV_THREADPOOL_SIZE],
      [{ UV_THREADPOOL_SIZE: "5" }, "5"],
    ] as const) {
      const proc = startSidecar(["sync", "-c", config], { entry: bin, env });
      try {
        await proc.waitFor("admin server listening", 20_000);
        const seen = await environment(proc.child.pid!);
        assert.equal(seen.get("UV_THREADPOOL_SIZE"), expected);
        assert.equal(await proc.stop("SIGTERM"), 0);
      } finally {
        await proc.stop("SIGKILL");
      }
    }
    assert.equal(commandEnvFor("sync", {}).UV_THREADPOOL_SIZE, "16");
    assert.deepEqual(commandEnvFor("proxy", {}), { NODE_DISABLE_COMPILE_CACHE: "1" });
  } finally {
    await dir.cleanup();
  }
});

// V8's compile cache: kept in a directory only this user can write under the temp dir, and no
// cache at all (nothing else changes) where that directory cannot be made.
test("the compile cache goes to a private directory under TMPDIR, and its absence is silent", async () => {
  const dir = await tempDir();
  try {
    const tmp = join(dir.path, "tmp");
    await mkdir(tmp);
    for (const tmpdir of [tmp, join(dir.path, "missing")]) {
      const result = await runSidecar(["--version"], {
        entry: bin,
        env: { TMPDIR: tmpdir, NODE_COMPILE_CACHE: undefined },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^\d+\.\d+\.\d+/);
      assert.equal(result.stderr, "");
    }
    const [cache] = await readdir(tmp);
    assert.match(cache ?? "", /^sidecar-compile-cache-/);
    assert.equal((await stat(join(tmp, cache!))).mode & 0o777, 0o700);
  } finally {
    await dir.cleanup();
  }
});

// What bin/sidecar.js adds for its own command is not the app's: `sidecar run` starts the app
// without it, and with what the user set.
test("an app `sidecar run` starts gets neither the command's thread pool size nor its compile-cache setting", async () => {
  const result = await runSidecar(
    [
      "run",
      "--admin-address",
      "127.0.0.1:0",
      "--",
      "sh",
      "-c",
      'echo "uv=${UV_THREADPOOL_SIZE-unset} cc=${NODE_DISABLE_COMPILE_CACHE-unset} mine=${MINE-unset} list=${SIDECAR_COMMAND_ENV-unset}"',
    ],
    {
      entry: bin,
      env: { MINE: "kept", UV_THREADPOOL_SIZE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined },
    },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /uv=unset cc=unset mine=kept list=unset/);
});
