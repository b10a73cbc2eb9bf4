import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, tempDir } from "./helpers/sidecar-process.ts";

test("the demo (npm start) starts the app under the sidecar, prints what to try, and every line answers", async () => {
  const appPort = await freePort();
  const adminPort = await freePort();
  const proxyPort = await freePort();
  const { path: dir, cleanup } = await tempDir();
  const demo = spawn(process.execPath, ["scripts/demo.ts"], {
    cwd: new URL("..", import.meta.url).pathname,
    env: {
      ...process.env,
      PORT: String(appPort),
      SIDECAR_ADMIN_ADDRESS: `127.0.0.1:${adminPort}`,
      PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      DEMO_LOG_DIR: `${dir}/logs`,
      DEMO_STATE_DIR: `${dir}/state`,
      DEMO_SHIPPED_FILE: `${dir}/shipped.jsonl`,
      DEMO_CONFIG_FILE: `${dir}/app.json`,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so cleanup reaches the sidecar and the app too
  });
  let out = "";
  demo.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  demo.stderr.on("data", (chunk: Buffer) => {
    out += chunk;
  });
  try {
    for (let i = 0; i < 300 && !out.includes("Try:"); i++) await sleep(50);
    assert.match(out, /sidecar demo is up\. Try:/, out);
    const urls = [...out.matchAll(/curl (?:-i )?(http:\/\/\S+)/g)].map((m) => m[1]!);
    assert.ok(urls.length >= 5, out);
    for (const url of urls) {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 200, url);
    }
    const proxied = await fetch(`http://127.0.0.1:${proxyPort}/hello`);
    const seen = (await proxied.json()) as {
      path: string;
      requestId?: string;
      forwardedFor?: string;
    };
    assert.equal(seen.path, "/hello");
    assert.match(seen.requestId ?? "", /\S/, "the proxy gives the app a request id");
    assert.equal(seen.forwardedFor, "127.0.0.1");
    // The app's log line for /hello reaches the shipped file through the logs role.
    let shippedLines: Record<string, unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const text = await readFile(`${dir}/shipped.jsonl`, "utf8").catch(() => "");
      shippedLines = text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      if (shippedLines.some((e) => e.path === "/hello")) break;
      await sleep(50);
    }
    const hello = shippedLines.find((e) => e.path === "/hello");
    assert.ok(hello, `shipped: ${JSON.stringify(shippedLines)}\n${out}`);
    assert.equal(hello.app, "demo");
    assert.equal(hello.message, "request");
    const quit = out.match(/curl -X POST (\S+)/)?.[1];
    assert.ok(quit, out);
    assert.equal((await fetch(quit, { method: "POST" })).status, 202);
    const [code] = await once(demo, "exit");
    assert.equal(code, 0, out);
  } finally {
    if (demo.exitCode === null) {
      // Graceful first: a SIGKILLed sidecar would leave its app (in a group of its own) running.
      process.kill(-demo.pid!, "SIGTERM");
      await Promise.race([once(demo, "exit"), sleep(15_000)]);
      try {
        process.kill(-demo.pid!, "SIGKILL");
      } catch {}
    }
    await cleanup();
  }
});
