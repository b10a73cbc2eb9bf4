import assert from "node:assert/strict";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
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
