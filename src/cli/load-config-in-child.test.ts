import assert from "node:assert/strict";
import { createHook } from "node:async_hooks";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../test/helpers/sidecar-process.ts";
import { loadConfigFile } from "../runtime/config/load-config.ts";
import { isSidecarError } from "../runtime/errors.ts";
import { loadConfigInChild } from "./load-config-in-child.ts";
import { configSchema } from "./roles.ts";

type Outcome =
  | { config: unknown; path: string | undefined; hash: string }
  | { code: string; message: string; details: readonly string[]; exitCode: number };

async function outcome(
  load: () => Promise<{ config: unknown; path: string | undefined; hash: string }>,
): Promise<Outcome> {
  try {
    const { config, path, hash } = await load();
    return { config, path, hash };
  } catch (error) {
    assert.ok(isSidecarError(error), String(error));
    return {
      code: error.code,
      message: error.message,
      details: error.details,
      exitCode: error.exitCode,
    };
  }
}

/** The config loaded in a child process, and in this one: they must be the same in every way. */
async function bothWays(
  path: string | undefined,
  options: { env?: Record<string, string>; overlay?: Record<string, unknown> } = {},
): Promise<Outcome> {
  const env = options.env ?? {};
  const apart = await outcome(() => loadConfigInChild(path, { env, overlay: options.overlay }));
  const here = await outcome(() =>
    loadConfigFile(path, {
      schema: configSchema,
      env,
      ...(options.overlay ? { overlay: options.overlay } : {}),
    }),
  );
  assert.deepStrictEqual(apart, here);
  return apart;
}

test("every example config comes back from the config process exactly as loaded in-process, hash included", async () => {
  for (const path of [
    "examples/demo/sidecar.yaml",
    "examples/proxy/sidecar.yaml",
    "examples/security/sidecar.yaml",
    "examples/sync/sidecar.yaml",
    "examples/config/configmap/sidecar.yaml",
    "deploy/examples/all-in-one/native/sidecar.yaml",
    "deploy/examples/log-collection/native/sidecar.yaml",
    "deploy/examples/node-agent/sidecar.yaml",
  ]) {
    const result = await bothWays(path, {
      env: { POD_NAME: "p", POD_NAMESPACE: "n", NODE_NAME: "node" },
    });
    assert.ok("config" in result || "code" in result, path);
  }
});

test("the config process reports the same problems, codes and exit codes: by path, did-you-mean, unset variables, bad YAML, alias bombs, a missing file", async () => {
  const dir = await tempDir("sidecar-config-child-");
  try {
    const file = async (name: string, text: string) => {
      const path = join(dir.path, name);
      await writeFile(path, text);
      return path;
    };
    const invalid = await bothWays(
      await file(
        "invalid.yaml",
        "admin:\n  adress: x\nproxy:\n  listeners:\n    - address: nope\n      routez: []\n  clusters: {}\napp:\n  health:\n    type: tcp\n    port: ${PORT}\n",
      ),
    );
    assert.ok("code" in invalid);
    assert.equal(invalid.code, "SIDECAR_ERR_CONFIG_INVALID");
    assert.equal(invalid.exitCode, 2);
    assert.ok(invalid.details.some((line) => line.includes('did you mean "address"?')));
    assert.ok(
      invalid.details.some((line) => line.includes("environment variable PORT is not set")),
    );

    const interpolated = await bothWays(
      await file("env.yaml", "app:\n  health:\n    type: tcp\n    port: ${PORT}\n"),
      {
        env: { PORT: "8080" },
        overlay: { admin: { address: "127.0.0.1:0" } },
      },
    );
    assert.ok("config" in interpolated);

    const bad = await bothWays(await file("bad.yaml", "admin: [\n"));
    assert.ok("code" in bad && bad.code === "SIDECAR_ERR_CONFIG_YAML");
    const laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++)
      laughs.push(
        `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10)
          .fill(`*${"abcdefghij"[i - 1]}`)
          .join(", ")}]`,
      );
    const bomb = await bothWays(await file("bomb.yaml", `${laughs.join("\n")}\n`));
    assert.ok("code" in bomb && bomb.code === "SIDECAR_ERR_CONFIG_YAML");

    const missing = await bothWays(join(dir.path, "absent.yaml"));
    assert.ok("code" in missing && missing.code === "SIDECAR_ERR_CONFIG_NOT_FOUND");

    const inline = await bothWays(undefined, {
      env: { SIDECAR_CONFIG_YAML: "admin: { address: 127.0.0.1:1 }\n" },
    });
    assert.ok("config" in inline);
  } finally {
    await dir.cleanup();
  }
});

/** loadConfigInChild with `source` as the config process's program. */
async function loadWithProgram(source: string, timeoutMs?: number) {
  const dir = await tempDir("sidecar-config-child-program-");
  try {
    const program = join(dir.path, "program.mjs");
    await writeFile(program, source);
    return await loadConfigInChild(undefined, { env: {} }, program, timeoutMs);
  } finally {
    await dir.cleanup();
  }
}

test("a config process that dies without answering is an error, not a hang", async () => {
  await assert.rejects(
    loadWithProgram("process.exit(3);\n"),
    /exited \(code 3\) without an answer/,
  );
});

test("a config process that never answers is stopped after the timeout, not waited for forever", async () => {
  await assert.rejects(
    loadWithProgram("setInterval(() => {}, 1000);\n", 300),
    /did not answer within 0.3 s/,
  );
});

test("the config process's pipes never become sockets of this process (their streams would slow the request path for good)", async () => {
  // An asynchronous child's pipes are net.Sockets over PIPEWRAP handles: the proxy's request
  // path (stream and socket functions shared with them) then ran 10-15 % slower per request.
  const pipes: string[] = [];
  const hook = createHook({
    init(_id, type) {
      if (type === "PIPEWRAP" || type === "PROCESSWRAP") pipes.push(type);
    },
  }).enable();
  try {
    const { config } = await loadConfigInChild("examples/proxy/sidecar.yaml", {
      env: { POD_NAME: "p", POD_NAMESPACE: "n", NODE_NAME: "node" },
    });
    assert.ok(config.proxy, "the config came back");
  } finally {
    hook.disable();
  }
  assert.deepEqual(pipes, []);
});
