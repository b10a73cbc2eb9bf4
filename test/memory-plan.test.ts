import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { memoryLimit, memoryPlan, parseSize } from "../bin/memory-plan.js";
import { httpGet, startSidecar, tempDir, writeConfig } from "./helpers/sidecar-process.ts";

const bin = new URL("../bin/sidecar.js", import.meta.url).pathname;

test("sizes read as Kubernetes and people write them", () => {
  assert.equal(parseSize("128Mi"), 128 * 2 ** 20);
  assert.equal(parseSize("1Gi"), 2 ** 30);
  assert.equal(parseSize("256M"), 256e6);
  assert.equal(parseSize("134217728"), 134217728);
  assert.equal(parseSize("lots"), undefined);
});

test("the limit comes from SIDECAR_MEMORY_LIMIT, else cgroup v2, else v1; 'max' and v1's unlimited are none", async () => {
  const dir = await tempDir();
  try {
    const root = join(dir.path, "cgroup");
    const cgroupFile = join(dir.path, "self-cgroup");
    const options = { env: {}, cgroupRoot: root, procSelfCgroup: cgroupFile };
    await mkdir(join(root, "kubepods", "pod1"), { recursive: true });
    await writeFile(cgroupFile, "0::/kubepods/pod1\n");
    await writeFile(join(root, "kubepods", "pod1", "memory.max"), "134217728\n");
    assert.deepEqual(memoryLimit(options), { bytes: 134217728, source: "cgroup v2" });
    await writeFile(join(root, "kubepods", "pod1", "memory.max"), "max\n");
    assert.equal(memoryLimit(options), undefined);
    assert.deepEqual(memoryLimit({ ...options, env: { SIDECAR_MEMORY_LIMIT: "256Mi" } }), {
      bytes: 256 * 2 ** 20,
      source: "SIDECAR_MEMORY_LIMIT",
    });
    await writeFile(cgroupFile, "4:memory:/docker/abc\n1:cpu:/\n");
    await mkdir(join(root, "memory", "docker", "abc"), { recursive: true });
    await writeFile(join(root, "memory", "docker", "abc", "memory.limit_in_bytes"), "67108864\n");
    assert.deepEqual(memoryLimit(options), { bytes: 67108864, source: "cgroup v1" });
    await writeFile(
      join(root, "memory", "docker", "abc", "memory.limit_in_bytes"),
      "9223372036854771712\n",
    );
    assert.equal(memoryLimit(options), undefined);
  } finally {
    await dir.cleanup();
  }
});

test("the plan keeps the young generation small and the process under 75 % of the limit", () => {
  assert.equal(memoryPlan(undefined, 8), undefined);
  const mib = (n: number) => ({ bytes: n * 2 ** 20, source: "test" });
  assert.deepEqual(
    [128, 256, 512].map((n) => {
      const plan = memoryPlan(mib(n), 16)!;
      return [plan.semiSpaceMiB, plan.maxOldSpaceMiB, plan.tooSmall];
    }),
    [
      [4, 44, false],
      [8, 128, false],
      [16, 296, false],
    ],
  );
  assert.equal(memoryPlan(mib(64), 8)!.tooSmall, true);
});

test("under a memory limit the command starts with heap and buffer sizes that fit it, and says so in /status", async () => {
  const dir = await tempDir();
  try {
    const config = await writeConfig(dir.path, "admin:\n  address: 127.0.0.1:0\n");
    const proc = startSidecar(
      ["proxy", "-c", config, "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"],
      { entry: bin, env: { SIDECAR_MEMORY_LIMIT: "128Mi" } },
    );
    try {
      await proc.waitFor("proxy listening", 20_000);
      const argv = (await readFile(`/proc/${proc.child.pid}/cmdline`, "utf8")).split("\0");
      assert.ok(argv.includes("--max-old-space-size=44"), argv.join(" "));
      assert.ok(argv.includes("--max-semi-space-size=4"), argv.join(" "));
      assert.match(
        proc.stdout(),
        /"msg":"memory plan: heap and buffers sized to the container's limit"/,
      );
      const admin = /"address":"http:\/\/(127\.0\.0\.1:\d+)"/.exec(proc.stdout())![1];
      const status = JSON.parse((await httpGet(`http://${admin}/status`)).body) as {
        memory: {
          limitBytes: number;
          source: string;
          maxOldSpaceMiB: number;
          buffers: { logs: { bufferMaxBytes: number }; proxy: { maxConnections: number } };
          pressure: { underPressure: boolean; highWaterBytes: number; peakResidentBytes: number };
        };
      };
      assert.deepEqual(
        [status.memory.limitBytes, status.memory.source, status.memory.maxOldSpaceMiB],
        [134217728, "SIDECAR_MEMORY_LIMIT", 44],
      );
      assert.equal(status.memory.buffers.logs.bufferMaxBytes, 3 * 2 ** 20);
      assert.equal(status.memory.buffers.proxy.maxConnections, 1024);
      assert.equal(status.memory.pressure.highWaterBytes, Math.floor(96 * 2 ** 20 * 0.95));
      assert.ok(status.memory.pressure.peakResidentBytes > 0);
    } finally {
      await proc.stop("SIGKILL");
    }
  } finally {
    await dir.cleanup();
  }
});
