import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { runSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

const noStackTrace = /\n\s+at /;

test("--help lists the commands; --version prints the package version", async () => {
  const help = await runSidecar(["--help"]);
  assert.equal(help.code, 0);
  for (const command of ["run", "validate"])
    assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
  const { version } = JSON.parse(
    await readFile(new URL("../package.json", import.meta.url), "utf8"),
  ) as { version: string };
  const printed = await runSidecar(["--version"]);
  assert.deepEqual([printed.code, printed.stdout.trim()], [0, version]);
});

test("each command has its own --help", async () => {
  const run = await runSidecar(["run", "--help"]);
  assert.equal(run.code, 0);
  assert.match(
    run.stdout,
    /Usage: sidecar run \[-c FILE\] \[--admin-address HOST:PORT\] -- CMD \[ARGS\.\.\.\]/,
  );
  assert.equal((await runSidecar(["validate", "--help"])).code, 0);
});

test("usage errors exit 2", async () => {
  const unknown = await runSidecar(["bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'bogus'/);
  const noCommand = await runSidecar(["run"]);
  assert.equal(noCommand.code, 2);
});

test("an unknown command with --help is still unknown: exit 2 with a did-you-mean", async () => {
  const result = await runSidecar(["proxi", "--help"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command 'proxi'/);
  assert.match(result.stderr, /Did you mean proxy\?/);
  assert.doesNotMatch(result.stdout, /Usage:/);
});

test("every role command takes --admin-address (and SIDECAR_ADMIN_ADDRESS), for kubelet's probes in a Pod", async () => {
  for (const role of ["proxy", "logs"]) {
    const help = await runSidecar([role, "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--admin-address <address>/, role);
  }
  const bad = await runSidecar([
    "proxy",
    "--upstream",
    "http://127.0.0.1:9",
    "--admin-address",
    "nowhere",
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Invalid --admin-address "nowhere": expected HOST:PORT/);
  const badEnv = await runSidecar(["run", "--", "true"], { env: { SIDECAR_ADMIN_ADDRESS: "x" } });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /Invalid SIDECAR_ADMIN_ADDRESS "x"/);
});

test("a YAML alias bomb is a YAML error (exit 2, SIDECAR_ERR_CONFIG_YAML), not a bug", async () => {
  const { path, cleanup } = await tempDir();
  try {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const file = await writeConfig(path, `${levels.join("\n")}\n`);
    const result = await runSidecar(["validate", "-c", file]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /is not valid YAML \[SIDECAR_ERR_CONFIG_YAML\]/);
    assert.match(result.stderr, /alias/i);
    assert.doesNotMatch(result.stderr, /this is a bug/);
  } finally {
    await cleanup();
  }
});

test("validate prints ok for the demo config", async () => {
  const result = await runSidecar(["validate", "-c", "examples/demo/sidecar.yaml"], {
    cwd: new URL("..", import.meta.url).pathname,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ok: examples\/demo\/sidecar\.yaml/);
});

test("validate reads SIDECAR_CONFIG when -c is absent", async () => {
  const { path, cleanup } = await tempDir();
  try {
    const file = await writeConfig(path, "log:\n  level: loud\n");
    const result = await runSidecar(["validate"], { env: { SIDECAR_CONFIG: file } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /log\.level: expected one of/);
  } finally {
    await cleanup();
  }
});

test("a role command validates every section of its file, not only its own role's", async () => {
  const { path, cleanup } = await tempDir();
  try {
    const file = await writeConfig(
      path,
      [
        "proxy:",
        "  listeners:",
        "    - { name: in, address: 127.0.0.1:0, routes: [{ match: { prefix: / }, cluster: app }] }",
        "  clusters: { app: { endpoints: [127.0.0.1:1] } }",
        "logs:",
        "  sorces: []",
        "metrcs: {}",
        "",
      ].join("\n"),
    );
    for (const command of [
      ["proxy", "-c", file],
      ["validate", "-c", file],
    ]) {
      const result = await runSidecar(command);
      assert.equal(result.code, 2, `${command[0]}: ${result.stderr}`);
      assert.match(result.stderr, /logs\.sorces: unknown key, did you mean "sources"\?/);
      assert.match(result.stderr, /metrcs: unknown key, did you mean "metrics"\?/);
      assert.doesNotMatch(result.stderr, /proxy\./, "the proxy's section is valid");
    }
  } finally {
    await cleanup();
  }
});

test("config errors are listed all at once, exit 2, and never show a stack trace", async () => {
  const { path, cleanup } = await tempDir();
  try {
    const cases: [string, RegExp][] = [
      ["admin:\n  address: [", /is not valid YAML\s.*\n {2}.*sidecar\.yaml:\d+:\d+: /],
      [
        "admin:\n  address: x\napp:\n  restart: sometimes\n",
        /has 2 problems[^\n]*\n {2}.*admin\.address: .*\n {2}.*app\.restart: /,
      ],
      [
        "app:\n  health:\n    type: tcp\n    port: ${NOPE_UNSET_VAR}\n",
        /environment variable NOPE_UNSET_VAR is not set/,
      ],
      ["admn: {}\n", /admn: unknown key, did you mean "admin"\?/],
    ];
    for (const [yaml, expected] of cases) {
      const file = await writeConfig(path, yaml);
      for (const command of [
        ["validate", "-c", file],
        ["run", "-c", file, "--", "true"],
      ]) {
        const result = await runSidecar(command);
        assert.equal(result.code, 2, `${command[0]}: ${yaml}\n${result.stderr}`);
        assert.match(result.stderr, expected);
        assert.doesNotMatch(result.stderr, noStackTrace);
      }
    }
    const missing = await runSidecar(["validate", "-c", `${path}/absent.yaml`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /absent\.yaml" not found/);
  } finally {
    await cleanup();
  }
});
