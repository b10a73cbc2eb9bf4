import assert from "node:assert/strict";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { buildBundle } from "../scripts/build.ts";
import {
  freePort,
  httpGet,
  startSidecar,
  tempDir,
  writeConfig,
} from "./helpers/sidecar-process.ts";

// An idle proxy pays for every module it loads at start (docs/proxy.md, Memory): node:crypto
// costs 2 MB of RSS (worker_threads 0.45 MB), and until its first request nothing in a proxy without TLS needs it (the
// request-id pool, the config hash /status shows). Run as installed: the bundle (from sources,
// the type-stripping loader's own modules load more).
test("an idle proxy has loaded neither node:crypto nor worker_threads nor the config's schema library and YAML parser; its first request and /status load node:crypto on use", async () => {
  const dir = await tempDir("sidecar-idle-builtins-");
  const app = createServer((_req, res) => res.end("app"));
  try {
    const entry = join(dir.path, "sidecar.js");
    await buildBundle(entry);
    // Writes the built-ins the process has loaded when it gets SIGUSR2, then a last line "end"
    // (read before the write is complete, the list would miss the modules loaded last).
    const preload = join(dir.path, "loaded-builtins.mjs");
    const listed = join(dir.path, "loaded.txt");
    // Also every module file it has loaded (module.registerHooks sees each one load).
    await writeFile(
      preload,
      `import { writeFileSync } from "node:fs";\nimport { registerHooks } from "node:module";\nconst files = [];\nregisterHooks({ load(url, context, next) { if (url.startsWith("file:")) files.push(url); return next(url, context); } });\nprocess.on("SIGUSR2", () => writeFileSync(${JSON.stringify(listed)}, [...process.moduleLoadList, ...files, "end"].join("\\n")));\n`,
    );
    const loadedNow = async (pid: number): Promise<string[]> => {
      await writeFile(listed, "");
      process.kill(pid, "SIGUSR2");
      for (let i = 0; i < 100; i++) {
        const lines = (await readFile(listed, "utf8")).split("\n");
        if (lines.at(-1) === "end") return lines;
        await sleep(50);
      }
      throw new Error("the sidecar did not list its modules");
    };

    app.listen(0, "127.0.0.1");
    await once(app, "listening");
    const appPort = (app.address() as { port: number }).port;
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const config = await writeConfig(
      dir.path,
      `admin:\n  address: 127.0.0.1:${adminPort}\nproxy:\n  listeners:\n    - address: 127.0.0.1:${listenPort}\n      routes: [{ cluster: app }]\n  clusters:\n    app: { endpoints: ["127.0.0.1:${appPort}"] }\n  accessLog: { enabled: false }\n`,
    );
    const proxy = startSidecar(["proxy", "-c", config], {
      entry,
      env: { NODE_OPTIONS: `--import ${pathToFileURL(preload).href}` },
    });
    try {
      await proxy.waitFor("proxy listening", 20_000);
      const idle = await loadedNow(proxy.child.pid!);
      assert.ok(idle.includes("NativeModule net"), "the list is the sidecar's");
      assert.equal(idle.includes("NativeModule crypto"), false, "node:crypto loaded at start");
      // pino requires it for transports and asynchronous destinations only (scripts/build.ts):
      // with the access log off (as here) nothing at start does.
      assert.equal(idle.includes("NativeModule worker_threads"), false, "worker_threads at start");
      // The config is validated in a process of its own (src/cli/load-config-in-child.ts): the
      // proxy has loaded no code of zod (the schemas) nor of yaml (the parser): 5 MB of RSS.
      const files = idle.filter((line) => line.startsWith("file:"));
      assert.ok(
        files.some((url) => url.endsWith("/sidecar.js")),
        "the list has the bundle's files",
      );
      for (const url of files) {
        const source = await readFile(new URL(url), "utf8");
        assert.ok(!/\$ZodType\b/.test(source), `${url} is zod's code`);
        assert.ok(!/\bLineCounter\b/.test(source), `${url} is the YAML parser's code`);
      }

      const res = await httpGet(`http://127.0.0.1:${listenPort}/`);
      assert.equal(res.body, "app");
      const status = JSON.parse((await httpGet(`http://127.0.0.1:${adminPort}/status`)).body);
      assert.match(status.config.hash, /^[0-9a-f]{12}$/);
      assert.ok((await loadedNow(proxy.child.pid!)).includes("NativeModule crypto"));
      assert.equal(await proxy.stop("SIGTERM"), 0);
    } finally {
      await proxy.stop("SIGKILL");
    }
  } finally {
    app.close();
    await dir.cleanup();
  }
});
