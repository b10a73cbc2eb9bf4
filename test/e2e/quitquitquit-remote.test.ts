import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestHost } from "../helpers/netns.ts";
import { freePort, startSidecar, tempDir, writeConfig } from "../helpers/sidecar-process.ts";

test("POST /quitquitquit from another host is refused with 403 and the sidecar keeps running", async () => {
  const host = createTestHost();
  const { path, cleanup } = await tempDir();
  const port = await freePort();
  const config = await writeConfig(path, `admin:\n  address: 0.0.0.0:${port}\n`);
  const proc = startSidecar(["run", "-c", config, "--", "sleep", "60"]);
  try {
    await proc.waitFor('"msg":"sidecar ready to serve"');
    const fetchFromPeer = `fetch("http://${host.hostAddress}:${port}/quitquitquit", { method: "POST" }).then(async (r) => console.log(r.status, await r.text()))`;
    const answer = host.exec([process.execPath, "-e", fetchFromPeer]);
    assert.match(answer, /^403 .*only from loopback/);
    await proc.waitFor(
      new RegExp(`"client":"${host.peerAddress.replaceAll(".", "\\.")}".*refused /quitquitquit`),
    );
    assert.equal(proc.child.exitCode, null, "still running");
    const local = await fetch(`http://127.0.0.1:${port}/quitquitquit`, { method: "POST" });
    assert.equal(local.status, 202);
    assert.equal(await proc.exited, 143, "sleep ends by SIGTERM");
  } finally {
    await proc.stop();
    host.remove();
    await cleanup();
  }
});
