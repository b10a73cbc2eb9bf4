import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isSidecarError, type SidecarError } from "../errors.ts";
import { loadConfigFile, parseConfigText } from "./load-config.ts";

function problemsOf(text: string, env: Record<string, string> = {}): SidecarError {
  try {
    parseConfigText(text, "sidecar.yaml", { env });
  } catch (error) {
    assert.ok(isSidecarError(error), String(error));
    return error;
  }
  assert.fail("expected the config to be refused");
}

test("an empty config gives every default", () => {
  const { config, hash } = parseConfigText("", undefined, { env: {} });
  assert.equal(config.admin.address, "127.0.0.1:9901");
  assert.equal(config.shutdown.gracePeriodSeconds, 30);
  assert.equal(config.app.restart, "never");
  assert.equal(config.app.health, undefined);
  assert.match(hash, /^[0-9a-f]{12}$/);
});

test("reports every schema problem at once, by path and position, with what was expected and what was given", () => {
  const error = problemsOf(
    [
      "admin:",
      "  address: nope",
      "app:",
      "  restart: sometimes",
      "  health:",
      "    type: http",
      "    port: 70000",
    ].join("\n"),
  );
  assert.equal(error.code, "SIDECAR_ERR_CONFIG_INVALID");
  assert.equal(error.exitCode, 2);
  assert.deepEqual(error.details, [
    'sidecar.yaml:2:12 admin.address: expected an address "host:port" (e.g. "127.0.0.1:9901" or "[::1]:9901"), got "nope"',
    'sidecar.yaml:4:12 app.restart: expected one of "never", "on-failure", "always", got "sometimes"',
    "sidecar.yaml:7:11 app.health.port: expected integer 1–65535, got 70000",
  ]);
});

test("a non-numeric port says what it got", () => {
  const error = problemsOf("app:\n  health:\n    type: tcp\n    port: abc\n");
  assert.deepEqual(error.details, [
    'sidecar.yaml:4:11 app.health.port: expected integer 1–65535, got "abc"',
  ]);
});

test("unknown keys are errors with a did-you-mean hint, or the list of allowed keys", () => {
  const error = problemsOf("shutdwn: {}\nadmin:\n  adress: x\n  zzzzzz: 1\n");
  assert.deepEqual(error.details, [
    'sidecar.yaml:1:1 shutdwn: unknown key, did you mean "shutdown"?',
    'sidecar.yaml:3:3 admin.adress: unknown key, did you mean "address"?',
    "sidecar.yaml:4:3 admin.zzzzzz: unknown key (expected one of: address)",
  ]);
});

test("a required key that is missing is reported at its parent", () => {
  const error = problemsOf("app:\n  health:\n    type: http\n");
  assert.deepEqual(error.details, ["sidecar.yaml:3:5 app.health.port: required"]);
});

test("interpolates ${VAR} and types unquoted values; quoted values stay strings", () => {
  const { config } = parseConfigText(
    'admin:\n  address: "${ADDR}"\napp:\n  health:\n    type: tcp\n    port: ${PORT}\n  stopTimeoutSeconds: ${STOP:-2.5}\n',
    "x",
    { env: { ADDR: "0.0.0.0:9901", PORT: "8080" } },
  );
  assert.equal(config.admin.address, "0.0.0.0:9901");
  assert.deepEqual(
    config.app.health && { type: config.app.health.type, port: config.app.health.port },
    { type: "tcp", port: 8080 },
  );
  assert.equal(config.app.stopTimeoutSeconds, 2.5);
});

test("an unset variable without default is named once, not also as a type error", () => {
  const error = problemsOf("app:\n  health:\n    type: tcp\n    port: ${APP_PORT}\n");
  assert.deepEqual(error.details, [
    "sidecar.yaml:4:11 app.health.port: environment variable APP_PORT is not set (set it, or write ${APP_PORT:-default})",
  ]);
});

test("invalid YAML is reported with line and column", () => {
  const error = problemsOf("admin:\n  address: [1, 2\nlog: {}\n");
  assert.equal(error.code, "SIDECAR_ERR_CONFIG_YAML");
  assert.match(error.details[0]!, /^sidecar\.yaml:\d+:\d+: /);
});

test("a document that is not a mapping is refused", () => {
  assert.match(problemsOf("- a\n- b\n").details[0]!, /\(top level\): expected a mapping/);
});

test("a missing file names the path and how to pass another", async () => {
  await assert.rejects(loadConfigFile("/nonexistent/sidecar.yaml"), (error: SidecarError) => {
    assert.equal(error.code, "SIDECAR_ERR_CONFIG_NOT_FOUND");
    assert.match(error.message, /"\/nonexistent\/sidecar\.yaml" not found/);
    return true;
  });
});

test("an overlay from flags merges over the file and is validated like it", async (t) => {
  const dir = t.name.length > 0 ? (process.env.TMPDIR ?? "/tmp") : "/tmp";
  const file = join(dir, `sidecar-overlay-${process.pid}.yaml`);
  await writeFile(file, "admin:\n  address: 127.0.0.1:9000\nlog:\n  level: debug\n");
  const { config } = await loadConfigFile(file, { env: {}, overlay: { log: { level: "warn" } } });
  assert.equal(config.admin.address, "127.0.0.1:9000");
  assert.equal(config.log.level, "warn");
  await assert.rejects(
    loadConfigFile(file, { env: {}, overlay: { log: { level: "loud" } } }),
    /has 1 problem/,
  );
});
