/**
 * The image deploy/image/build-test-image.sh makes from the bundle (what deploy/Dockerfile's
 * runtime stage holds): `sidecar` is the entrypoint, it runs as UID 10001 without capabilities
 * on a read-only root, and the bundle answers without src/ or node_modules.
 * Needs podman and runc (bash scripts/install-system-deps.sh). Run with `npm run test:e2e`.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { before, test } from "node:test";
import { buildTestImages, podman, type TestImages } from "../helpers/podman.ts";

let images: TestImages;
before(async () => {
  images = await buildTestImages();
});

test("the image is tagged with the package version the manifests use", async () => {
  const { version } = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
  assert.equal(images.sidecar, `ghcr.io/sidecar-dev/sidecar:${version}`);
  assert.equal(images.demoApp, `ghcr.io/sidecar-dev/sidecar-demo-app:${version}`);
  const { stdout } = await podman([
    "image",
    "inspect",
    "--format",
    "{{json .Config}}",
    images.sidecar,
  ]);
  const config = JSON.parse(stdout) as { User: string; Entrypoint: string[] };
  assert.equal(config.User, "10001:10001");
  assert.deepEqual(config.Entrypoint, ["sidecar"]);
});

test("`sidecar` runs from the bundle as UID 10001 on a read-only root", async () => {
  const version = await podman(["run", "--rm", "--read-only", images.sidecar, "--version"]);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const { stdout } = await podman([
    "run",
    "--rm",
    "--read-only",
    "--cap-drop=ALL",
    "--entrypoint",
    "node",
    images.sidecar,
    "-e",
    `const fs = require("node:fs");
     let write = "written";
     try { fs.writeFileSync("/app/x", "") } catch (e) { write = e.code }
     console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), write,
       src: fs.existsSync("/app/src"), nodeModules: fs.existsSync("/app/node_modules") }))`,
  ]);
  assert.deepEqual(JSON.parse(stdout), {
    uid: 10001,
    gid: 10001,
    write: "EROFS",
    src: false,
    nodeModules: false,
  });
});

test("a config error exits 2 with the problem by path, as outside a container", async () => {
  await assert.rejects(
    podman(["run", "--rm", "--read-only", images.sidecar, "proxy", "--upstream", "ftp://x"]),
    /\(exit 2\): .*Invalid --upstream "ftp:\/\/x"/s,
  );
});
