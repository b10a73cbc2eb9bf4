import assert from "node:assert/strict";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readTail, readTailSync, TAIL_BYTES, TailWindow, tailMatches } from "./tail-digest.ts";

async function withFile(content: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-tail-"));
  try {
    const path = join(dir, "f.log");
    await writeFile(path, content);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the window kept while reading gives the digest read back from the file, for any chunking", async () => {
  const content = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(i % 17)}\n`).join(
    "",
  );
  await withFile(content, async (path) => {
    const handle = await open(path, "r");
    try {
      const bytes = Buffer.from(content);
      for (const chunk of [1, 7, 100, TAIL_BYTES, 5000]) {
        const window = new TailWindow();
        for (let at = 0; at < bytes.length; at += chunk)
          window.push(bytes.subarray(at, at + chunk));
        assert.equal(window.digest(), await readTail(handle, bytes.length), `chunk ${chunk}`);
      }
      assert.equal(readTailSync(handle, 500), await readTail(handle, 500));
      assert.equal(await readTail(handle, 0), "");
      assert.equal(await readTail(handle, bytes.length + 1), undefined); // shorter than the offset
    } finally {
      await handle.close();
    }
  });
});

test("content that ends alike but differs earlier in the last KiB does not match", async () => {
  const ending = `,"service":"checkout","level":"info"}\n`;
  const a = `{"msg":"a"${ending}`.repeat(20);
  const b = `{"msg":"b"${ending}`.repeat(20);
  await withFile(a, async (pathA) => {
    const handle = await open(pathA, "r");
    const digest = (await readTail(handle, a.length))!;
    await handle.close();
    await withFile(b, async (pathB) => {
      const other = await open(pathB, "r");
      try {
        assert.equal(await tailMatches(other, b.length, digest), false);
        // The 32 raw bytes a tail held before digests are the same in both: still understood.
        const legacy = Buffer.from(a).subarray(-32).toString("base64");
        assert.equal(await tailMatches(other, b.length, legacy), true);
      } finally {
        await other.close();
      }
    });
  });
});
