import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeManifest, type Manifest, type ManifestEntry, parseManifest } from "./manifest.ts";

const sha = (n: number) => n.toString(16).padStart(64, "0");

function entry(n: number, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    path: `d/f${n}.txt`,
    size: n,
    mtimeMs: 1_764_000_000_000.123 + n,
    sha256: sha(n),
    mode: 0o644,
    ...extra,
  };
}

test("encodeManifest writes the same bytes as JSON.stringify, also for entries it has encoded before", () => {
  const files = [
    entry(1),
    entry(2, { deletedAt: "2026-11-28T00:00:00.000Z" }),
    entry(3, { path: 'd/"quoted" \\ ünïcode\u2028.txt' }),
  ];
  const first: Manifest = { format: 1, version: 1, createdAt: "2026-11-28T00:00:00.000Z", files };
  assert.equal(encodeManifest(first), `${JSON.stringify(first)}\n`);
  // The next version carries two entries over (cached) and adds a changed one.
  const second: Manifest = {
    format: 1,
    version: 2,
    createdAt: "2026-11-28T00:01:00.000Z",
    files: [files[0]!, entry(4), files[2]!],
  };
  const text = encodeManifest(second);
  assert.equal(text, `${JSON.stringify(second)}\n`);
  assert.deepEqual(parseManifest(text, "test"), second);
  const empty: Manifest = {
    format: 1,
    version: 3,
    createdAt: "2026-11-28T00:02:00.000Z",
    files: [],
  };
  assert.equal(encodeManifest(empty), `${JSON.stringify(empty)}\n`);
});
