import assert from "node:assert/strict";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { buildBundle } from "../scripts/build.ts";
import {
  freePort,
  httpGet,
  runSidecar,
  startSidecar,
  tempDir,
  writeConfig,
} from "./helpers/sidecar-process.ts";

// dist/sidecar.js is what the package and the image run: build it and use it as a user would.
test("the bundle `npm run build` makes runs the CLI: version, validate, and a proxy in front of an app", async () => {
  const dir = await tempDir("sidecar-bundle-");
  const app = createServer((req, res) => res.end(`app saw ${req.url}`));
  try {
    const entry = join(dir.path, "sidecar.js");
    await buildBundle(entry);

    const packageJson = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
    const version = await runSidecar(["--version"], { entry });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), packageJson.version);

    const demo = await runSidecar(["validate", "-c", "examples/demo/sidecar.yaml"], { entry });
    assert.equal(demo.code, 0, demo.stderr);
    const bad = await writeConfig(dir.path, "proxy:\n  listeners: 3\n", "bad.yaml");
    const invalid = await runSidecar(["validate", "-c", bad], { entry });
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /proxy\.listeners/);

    // A CommonJS package a role loads on use (selfsigned, like the S3 SDK) works from its chunk.
    const certs = await runSidecar(["webhook", "gen-cert", "--out", join(dir.path, "certs")], {
      entry,
    });
    assert.equal(certs.code, 0, certs.stderr);
    assert.match(await readFile(join(dir.path, "certs", "tls.crt"), "utf8"), /BEGIN CERTIFICATE/);

    app.listen(0, "127.0.0.1");
    await once(app, "listening");
    const appPort = (app.address() as { port: number }).port;
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const config = await writeConfig(dir.path, `admin:\n  address: 127.0.0.1:${adminPort}\n`);
    const proxy = startSidecar(
      [
        "proxy",
        "-c",
        config,
        "--listen",
        `127.0.0.1:${listenPort}`,
        "--upstream",
        `http://127.0.0.1:${appPort}`,
      ],
      { entry },
    );
    try {
      await proxy.waitFor("proxy listening", 20_000);
      const res = await httpGet(`http://127.0.0.1:${listenPort}/through?bundle=1`);
      assert.equal(res.status, 200);
      assert.equal(res.body, "app saw /through?bundle=1");
      const metrics = await httpGet(`http://127.0.0.1:${adminPort}/metrics`);
      assert.match(metrics.body, /sidecar_build_info\{version="[^"]+"/);
      assert.equal(await proxy.stop("SIGTERM"), 0);
    } finally {
      await proxy.stop("SIGKILL");
    }
  } finally {
    app.close();
    await dir.cleanup();
  }
});

// What `sidecar proxy` holds idle is mostly the code it loads at start (docs/proxy.md, Memory):
// the entry and the chunks it imports statically must not carry a role's heavy dependencies,
// which its `create` imports on use, and must be ASCII (V8 keeps any other source at two bytes
// per character).
test("the bundle loads at start neither the S3 SDK, ajv, mustache, selfsigned, TLS, zod nor the YAML parser; zod speaks English only; all is ASCII", async () => {
  const dir = await tempDir("sidecar-bundle-split-");
  try {
    const entry = join(dir.path, "sidecar.js");
    await buildBundle(entry);
    const atStart = new Set<string>();
    const pending = [entry];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (atStart.has(file)) continue;
      atStart.add(file);
      const text = await readFile(file, "utf8");
      for (const m of text.matchAll(
        /^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|^import\s+"(\.[^"]+)"/gm,
      ))
        pending.push(join(dirname(file), (m[1] ?? m[2])!));
    }
    const packages = new Set<string>();
    for (const file of atStart)
      for (const m of (await readFile(file, "utf8")).matchAll(
        /^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)/gm,
      ))
        packages.add(m[1]!);
    for (const heavy of [
      "@aws-sdk/client-s3",
      "@aws-sdk/lib-storage",
      "ajv",
      "mustache",
      "selfsigned",
    ])
      assert.equal(packages.has(heavy), false, `${heavy} is loaded at start`);
    assert.ok(packages.has("commander"), "the walk found the statically imported chunks");
    // The config is validated in a process of its own (config-child.js): neither the schema
    // library nor the YAML parser at start (src/cli/load-config-in-child.ts).
    assert.equal(packages.has("zod"), false, "zod is loaded at start");
    assert.equal(packages.has("yaml"), false, "yaml is loaded at start");
    // TLS (node:tls, or node:https, which loads it) only where TLS is configured: 4 MB of RSS.
    for (const file of atStart) {
      const text = await readFile(file, "utf8");
      assert.doesNotMatch(text, /require\("(node:)?(tls|https)"\)|from "node:(tls|https)"/, file);
    }
    const chunks = await readdir(join(dir.path, "chunks"));
    // zod's messages in English only (build.ts), wherever zod is.
    for (const name of chunks)
      assert.doesNotMatch(
        await readFile(join(dir.path, "chunks", name), "utf8"),
        /^\/\/ node_modules\/zod\/v4\/locales\/(?!en\.js)/m,
        name,
      );
    assert.ok(
      chunks.some((name) => name.startsWith("proxy-role-")),
      chunks.join(", "),
    );
    for (const file of [entry, ...chunks.map((name) => join(dir.path, "chunks", name))])
      assert.doesNotMatch(await readFile(file, "latin1"), /[\x80-\xff]/, `${file} is not ASCII`);
  } finally {
    await dir.cleanup();
  }
});
