import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { until } from "../src/runtime/testing.ts";
import { runSidecar, startSidecar, tempDir } from "./helpers/sidecar-process.ts";

// The sidecar container of a Pod as `sidecar inject` writes it: `sidecar start`, its config
// inline in SIDECAR_CONFIG_YAML, and (in a Job) an exit file the app's container creates.
test("sidecar start runs every configured role from SIDECAR_CONFIG_YAML and stops when the exit file appears", async () => {
  const dir = await tempDir();
  try {
    const exitFile = join(dir.path, "exit");
    const out = join(dir.path, "out.jsonl");
    await writeFile(join(dir.path, "app.log"), "hello from the app\n");
    const yaml = [
      'admin: { address: "127.0.0.1:0" }',
      `shutdown: { whenFileExists: ${exitFile} }`,
      "logs:",
      `  stateDir: ${join(dir.path, "state")}`,
      `  sources: [{ type: file, include: ["${join(dir.path, "*.log")}"], readFrom: head }]`,
      `  sinks: [{ type: file, path: ${out} }]`,
    ].join("\n");
    const proc = startSidecar(["start"], { env: { SIDECAR_CONFIG_YAML: yaml } });
    try {
      await proc.waitFor('"msg":"sidecar ready to serve"');
      await until(
        async () => (await readFile(out, "utf8").catch(() => "")).includes("hello from the app"),
        "the line to be shipped",
      );
      await writeFile(exitFile, "");
      assert.equal(await proc.exited, 0, proc.stdout());
      assert.match(proc.stdout(), /the app's container ended/);
    } finally {
      await proc.stop();
    }
  } finally {
    await dir.cleanup();
  }
});

test("sidecar start without any role section is a usage error naming the roles", async () => {
  const result = await runSidecar(["start"], {
    env: { SIDECAR_CONFIG_YAML: "log: { level: warn }\n" },
  });
  assert.equal(result.code, 2);
  // Every role is named (each new role adds itself to the list).
  assert.match(result.stderr, /Nothing to start: the config has no role section \(logs, proxy[,)]/);
});

test("a bad inline config is reported against SIDECAR_CONFIG_YAML, by line", async () => {
  const result = await runSidecar(["start"], {
    env: { SIDECAR_CONFIG_YAML: "logs:\n  sinkz: []\n" },
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /SIDECAR_CONFIG_YAML:2:3 logs\.sinkz: unknown key/);
});
