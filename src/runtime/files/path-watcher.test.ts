import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { until } from "../testing.ts";
import { writeKubernetesVolume } from "./kubernetes-volume.testing.ts";
import { type PathWatcherOptions, watchPath } from "./path-watcher.ts";

/**
 * Watches `path` and records what it reads at each call: a test asserts on content observed,
 * never on timing. fs.watch alone (the safety-net poll set to a minute) unless told otherwise.
 */
async function observe(
  path: string,
  run: (seen: { contents: string[]; waitFor(content: string): Promise<void> }) => Promise<void>,
  options: PathWatcherOptions = {},
  read: () => Promise<string> = () => readFile(path, "utf8").catch(() => "<missing>"),
): Promise<void> {
  const contents: string[] = [];
  const watcher = watchPath(
    path,
    async () => {
      contents.push(await read());
    },
    { debounceMs: 20, pollIntervalMs: 60_000, ...options },
  );
  try {
    await run({
      contents,
      waitFor: (content) =>
        until(() => contents.at(-1) === content, `a call that reads "${content}"`),
    });
  } finally {
    watcher.close();
  }
}

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-watch-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("sees a plain edit of a file", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    await writeFile(file, "v1");
    await observe(file, async ({ waitFor }) => {
      await writeFile(file, "v2");
      await waitFor("v2");
      await writeFile(file, "v3 longer");
      await waitFor("v3 longer");
    });
  });
});

test("sees a file deleted and created again", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    await writeFile(file, "v1");
    await observe(file, async ({ waitFor }) => {
      await rm(file);
      await waitFor("<missing>");
      await writeFile(file, "v2");
      await waitFor("v2");
    });
  });
});

test("sees a file renamed over the watched one", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    await writeFile(file, "v1");
    await observe(file, async ({ waitFor }) => {
      for (const version of ["v2", "v3", "v4"]) {
        await writeFile(join(dir, ".app.yaml.tmp"), version);
        await rename(join(dir, ".app.yaml.tmp"), file);
        await waitFor(version);
      }
    });
  });
});

test("waits for a path that does not exist yet, its directory included", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "later", "deeper", "app.yaml");
    await observe(file, async ({ waitFor, contents }) => {
      await mkdir(join(dir, "later", "deeper"), { recursive: true });
      await writeFile(file, "here");
      await waitFor("here");
      await writeFile(file, "edited");
      await waitFor("edited");
      assert.ok(!contents.includes("<missing>"), "no call while it was still missing");
    });
  });
});

test("follows several consecutive ..data swaps of a ConfigMap volume, for a file and for the directory", async () => {
  await withTempDir(async (dir) => {
    const volume = join(dir, "config");
    await writeKubernetesVolume(volume, { "app.yaml": "v1", "other.yaml": "o1" });
    const file = join(volume, "app.yaml");
    const both = () =>
      Promise.all([readFile(file, "utf8"), readFile(join(volume, "other.yaml"), "utf8")]).then(
        (parts) => parts.join("+"),
        () => "<missing>",
      );
    await observe(file, async ({ waitFor }) => {
      await observe(
        volume,
        async (directory) => {
          for (let n = 2; n <= 6; n++) {
            await writeKubernetesVolume(volume, { "app.yaml": `v${n}`, "other.yaml": `o${n}` });
            await waitFor(`v${n}`);
            await directory.waitFor(`v${n}+o${n}`);
          }
        },
        {},
        both,
      );
    });
  });
});

test("a burst of 50 edits coalesces into a few calls that end on the last content", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    await writeFile(file, "start");
    await observe(
      file,
      async ({ waitFor, contents }) => {
        for (let n = 1; n <= 50; n++) await writeFile(file, `edit ${n}`);
        await waitFor("edit 50");
        assert.ok(contents.length <= 10, `${contents.length} calls for 50 edits`);
      },
      { debounceMs: 200 },
    );
  });
});

test("polling alone (fs.watch disabled) sees edits, a missing path appearing and ..data swaps", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    const polling = { usePolling: true, pollIntervalMs: 20, debounceMs: 10 };
    await observe(
      file,
      async ({ waitFor }) => {
        await writeFile(file, "v1");
        await waitFor("v1");
        await writeFile(file, "v2");
        await waitFor("v2");
      },
      polling,
    );
    const volume = join(dir, "config");
    await writeKubernetesVolume(volume, { "app.yaml": "k1" });
    await observe(
      join(volume, "app.yaml"),
      async ({ waitFor }) => {
        for (const version of ["k2", "k3", "k4"]) {
          await writeKubernetesVolume(volume, { "app.yaml": version });
          await waitFor(version);
        }
      },
      polling,
    );
  });
});

test("never runs onChange concurrently, and runs once more for a change seen meanwhile", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    await writeFile(file, "v0");
    let active = 0;
    let most = 0;
    const contents: string[] = [];
    let release = () => {};
    const watcher = watchPath(
      file,
      async () => {
        active++;
        most = Math.max(most, active);
        contents.push(await readFile(file, "utf8"));
        if (contents.length === 1) await new Promise<void>((resolve) => (release = resolve));
        active--;
      },
      { debounceMs: 10, pollIntervalMs: 60_000 },
    );
    try {
      await writeFile(file, "v1");
      await until(() => contents.length === 1, "the first call");
      await writeFile(file, "v2"); // seen while the first call still runs
      await writeFile(file, "v3");
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      await until(() => contents.at(-1) === "v3", "a call after the first one ends");
      assert.equal(most, 1);
    } finally {
      watcher.close();
    }
  });
});

test("close() and an aborted signal stop the calls", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "app.yaml");
    await writeFile(file, "v0");
    let calls = 0;
    const controller = new AbortController();
    watchPath(file, () => void calls++, {
      debounceMs: 5,
      pollIntervalMs: 10,
      signal: controller.signal,
    });
    const closed = watchPath(file, () => void calls++, { debounceMs: 5, pollIntervalMs: 10 });
    controller.abort();
    closed.close();
    closed.close(); // idempotent
    await writeFile(file, "v1");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(calls, 0);
  });
});
