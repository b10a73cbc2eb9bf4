import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { writeKubernetesVolume } from "../runtime/files/kubernetes-volume.testing.ts";
import type { AppHandle } from "../runtime/role-definition.ts";
import { testRoleContext, until } from "../runtime/testing.ts";
import { createConfigRole } from "./config-role.ts";
import { type ConfigSectionInput, configSectionSchema } from "./config-section.ts";
import { configStatus } from "./config-status.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "config-role-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function build(input: ConfigSectionInput, overrides: Parameters<typeof testRoleContext>[0] = {}) {
  const ctx = testRoleContext(overrides);
  const role = createConfigRole(configSectionSchema.parse(input), ctx);
  cleanups.push(() => role.stop(AbortSignal.timeout(5000)));
  return { role, ctx };
}

async function metric(ctx: ReturnType<typeof testRoleContext>, name: string): Promise<number> {
  const text = await ctx.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line ? Number(line.split(" ").at(-1)) : Number.NaN;
}

test("publishes a ConfigMap-shaped directory and follows its ..data swap", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { "app.json": '{"a":1}', "log.level": "info" });
  const { role, ctx } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file", path: join(dir, "cm") }],
  });
  await role.start();
  assert.equal(role.ready(), true);
  assert.equal(await readFile(join(dir, "out", "app.json"), "utf8"), '{"a":1}');
  assert.equal(await readFile(join(dir, "out", "log.level"), "utf8"), "info");
  await writeKubernetesVolume(join(dir, "cm"), { "app.json": '{"a":2}' });
  await until(
    async () => (await readFile(join(dir, "out", "app.json"), "utf8")) === '{"a":2}',
    "the new version",
  );
  // A key removed from the ConfigMap is removed from the outputs too.
  await until(
    () =>
      readFile(join(dir, "out", "log.level")).then(
        () => false,
        () => true,
      ),
    "log.level gone",
  );
  await role.settled();
  assert.equal(await metric(ctx, "sidecar_config_publishes_total"), 2);
});

test("renders a template from the merged values of two sources", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "base.yaml"), "db:\n  host: db.local\n  port: 5432\nname: base\n");
  await writeKubernetesVolume(join(dir, "cm"), { "db.port": "6543", motto: 'say "hi"' });
  const { role } = build({
    outputDir: join(dir, "out"),
    sources: [
      { name: "base", type: "file", path: join(dir, "base.yaml") },
      { name: "cm", type: "file", path: join(dir, "cm") },
    ],
    outputs: [
      {
        path: "app.json",
        template: '{"db": "{{db.host}}:{{db.port}}", "motto": "{{motto}}", "name": "{{name}}"}',
      },
      { path: "app.env" },
    ],
  });
  await role.start();
  assert.deepEqual(JSON.parse(await readFile(join(dir, "out", "app.json"), "utf8")), {
    db: "db.local:6543",
    motto: 'say "hi"',
    name: "base",
  });
  assert.equal(
    await readFile(join(dir, "out", "app.env"), "utf8"),
    'DB_HOST=db.local\nDB_PORT=6543\nNAME=base\nMOTTO="say \\"hi\\""\n',
  );
});

test("a version that fails its JSON Schema is kept back; the last good stays until a good one", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { port: "8080" });
  const { role, ctx } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file", path: join(dir, "cm"), parse: "yaml" }],
    outputs: [
      {
        path: "app.json",
        template: '{"port": {{port}}}',
        schema: {
          type: "object",
          properties: { port: { type: "integer", maximum: 65535 } },
          required: ["port"],
        },
      },
    ],
  });
  await role.start();
  await writeKubernetesVolume(join(dir, "cm"), { port: "99999" });
  await until(() => role.failure !== undefined, "the failure");
  assert.equal(role.failure!.stage, "validate");
  assert.match(role.failure!.reason, /\/port: must be <= 65535/);
  assert.equal(await readFile(join(dir, "out", "app.json"), "utf8"), '{"port": 8080}');
  assert.equal(await metric(ctx, 'sidecar_config_failed_versions_total{stage="validate"}'), 1);
  assert.equal(role.ready(), true, "readiness fails only before the first good version");
  assert.match(role.degradedReason() ?? "", /newest failed \(validate\): .*must be <= 65535/);
  const warned = ctx.logLines().filter((l) => l.msg === "config version kept back");
  assert.equal(warned.length, 1);
  assert.equal(warned[0]!.code, "SIDECAR_ERR_CONFIG_VALIDATE");
  await writeKubernetesVolume(join(dir, "cm"), { port: "9090" });
  await until(() => role.failure === undefined, "the good version");
  assert.equal(await readFile(join(dir, "out", "app.json"), "utf8"), '{"port": 9090}');
  assert.equal(role.degradedReason(), undefined);
});

test("a check command that fails keeps the version back; the staged file is what it checks", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { "nginx.conf": "ok 1" });
  const { role } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file", path: join(dir, "cm") }],
    outputs: [
      {
        path: "nginx.conf",
        source: "cm",
        key: "nginx.conf",
        check: {
          command: [
            "sh",
            "-c",
            'grep -q "^ok" "$1" || { echo "bad line" >&2; exit 3; }',
            "sh",
            "{file}",
          ],
        },
      },
    ],
  });
  await role.start();
  await writeKubernetesVolume(join(dir, "cm"), { "nginx.conf": "broken" });
  await until(() => role.failure !== undefined, "the failure");
  assert.match(role.failure!.reason, /exited with 3: bad line/);
  assert.equal(await readFile(join(dir, "out", "nginx.conf"), "utf8"), "ok 1");
});

test("a missing template key fails the version instead of rendering empty", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { a: "1" });
  const { role } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file", path: join(dir, "cm"), timeoutSeconds: 0.5 }],
    outputs: [{ path: "x.txt", template: "{{a}} {{b.c}}" }],
  });
  await assert.rejects(role.start(), (error: Error & { code: string }) => {
    assert.equal(error.code, "SIDECAR_ERR_CONFIG_RENDER");
    assert.match(error.message, /no value for "b\.c"/);
    return true;
  });
});

test("a burst of changes publishes once", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { n: "0" });
  const { role, ctx } = build({
    outputDir: join(dir, "out"),
    wait: { minSeconds: 0.5, maxSeconds: 10 },
    sources: [{ name: "cm", type: "file", path: join(dir, "cm") }],
  });
  await role.start();
  for (let n = 1; n <= 20; n++) await writeKubernetesVolume(join(dir, "cm"), { n: String(n) });
  await until(
    async () => (await readFile(join(dir, "out", "n"), "utf8")) === "20",
    "the last value",
  );
  await role.settled();
  assert.equal(await metric(ctx, "sidecar_config_publishes_total"), 2);
});

test("once: asks the runtime to stop with exit code 0 after publishing", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "app.yaml"), "a: 1\n");
  const { role, ctx } = build({
    outputDir: join(dir, "out"),
    once: true,
    sources: [{ name: "f", type: "file", path: join(dir, "app.yaml") }],
  });
  await role.start();
  assert.deepEqual(ctx.stopRequests, [{ reason: "config published (--once)", exitCode: 0 }]);
  // One file: replaced in place, no version directories.
  assert.equal(await readFile(join(dir, "out", "app.yaml"), "utf8"), "a: 1\n");
});

test("a required source not read within its timeout fails start naming its path", async () => {
  const dir = await tempDir();
  const { role } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file", path: join(dir, "nope"), timeoutSeconds: 0.3 }],
  });
  await assert.rejects(role.start(), (error: Error & { code: string }) => {
    assert.equal(error.code, "SIDECAR_ERR_CONFIG_SOURCE_TIMEOUT");
    assert.ok(error.message.includes(join(dir, "nope")), error.message);
    assert.match(error.message, /ENOENT/);
    return true;
  });
  assert.match(role.notReadyReason()!, /waiting for config source "cm"/);
});

test("an optional source that cannot be read does not hold back the first version", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "a.txt"), "A");
  const { role } = build({
    outputDir: join(dir, "out"),
    sources: [
      { name: "a", type: "file", path: join(dir, "a.txt") },
      { name: "b", type: "file", path: join(dir, "b.txt"), required: false },
    ],
  });
  await role.start();
  assert.equal(await readFile(join(dir, "out", "a.txt"), "utf8"), "A");
  await writeFile(join(dir, "b.txt"), "B");
  await until(
    () =>
      readFile(join(dir, "out", "b.txt"), "utf8").then(
        (t) => t === "B",
        () => false,
      ),
    "b.txt once it appears",
  );
});

test("a secret source's files are written 0600 and /config shows hashes, never values", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "secret"), { password: "hunter2-very-secret" });
  const { role, ctx } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "s", type: "file", path: join(dir, "secret"), secret: true }],
  });
  await role.start();
  const { stat } = await import("node:fs/promises");
  assert.equal((await stat(join(dir, "out", "password"))).mode & 0o777, 0o600);
  const status = JSON.stringify(configStatus(role));
  assert.ok(!status.includes("hunter2"), status);
  assert.equal(role.published!.files[0]!.mode, "0600");
  const route = ctx.routes.find("/config");
  assert.ok(route, "GET /config is registered");
  const panel = await ctx.routes.panels[0]!.figures();
  assert.ok(panel.some((f) => f.label === "version" && f.value === role.published!.hash));
});

test("an unchanged version is not republished when the role starts again", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { a: "1", b: "2" });
  const section = {
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file" as const, path: join(dir, "cm") }],
  };
  const first = build(section);
  await first.role.start();
  await first.role.stop(AbortSignal.timeout(1000));
  const second = build(section);
  await second.role.start();
  assert.equal(second.role.published!.hash, first.role.published!.hash);
  assert.equal(await metric(second.ctx, "sidecar_config_publishes_total"), 0);
});

function fakeApp() {
  const calls: string[] = [];
  const app: AppHandle = {
    signal: (signal) => {
      calls.push(signal);
      return true;
    },
    restart: async (reason) => {
      calls.push(`restart: ${reason}`);
    },
    ready: () => true,
  };
  return { app, calls };
}

test("signal and restart notifications reach the app, not for the first version, in order", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { a: "1" });
  const { app, calls } = fakeApp();
  const { role, ctx } = build(
    {
      outputDir: join(dir, "out"),
      sources: [{ name: "cm", type: "file", path: join(dir, "cm") }],
      notify: [{ type: "signal", signal: "SIGUSR1" }, { type: "restart" }],
    },
    { app },
  );
  await role.start();
  assert.deepEqual(calls, []);
  await writeKubernetesVolume(join(dir, "cm"), { a: "2" });
  await until(() => calls.length === 2, "two notifications");
  assert.equal(calls[0], "SIGUSR1");
  assert.match(calls[1]!, /^restart: config version [0-9a-f]{16} published$/);
  assert.equal(
    await metric(ctx, 'sidecar_config_notifications_total{kind="signal",result="ok"}'),
    1,
  );
});

test("a command notification gets the version and directory", async () => {
  const dir = await tempDir();
  await writeKubernetesVolume(join(dir, "cm"), { a: "1" });
  const marker = join(dir, "marker");
  const { role } = build({
    outputDir: join(dir, "out"),
    sources: [{ name: "cm", type: "file", path: join(dir, "cm") }],
    notify: [
      {
        type: "command",
        command: [
          "sh",
          "-c",
          'cat "$SIDECAR_CONFIG_DIR/a" > "$1"; echo " $SIDECAR_CONFIG_VERSION" >> "$1"',
          "sh",
          marker,
        ],
      },
    ],
  });
  await role.start();
  await writeKubernetesVolume(join(dir, "cm"), { a: "2" });
  await until(
    () =>
      readFile(marker, "utf8").then(
        (text) => text.endsWith("\n"),
        () => false,
      ),
    "the marker",
  );
  assert.equal(await readFile(marker, "utf8"), `2 ${role.published!.hash}\n`);
});
